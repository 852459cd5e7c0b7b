/**
 * The search box above the chat list: searches the user's messages as they type (debounced),
 * lists the matches with their chat, who wrote them, when, and the snippet with the matched
 * words highlighted; choosing one opens its chat at that message.
 */
import { closeIcon, searchIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { StudyMateError } from '../api';
import type { MessageSearchResult } from '../protocol';
import { splitSnippet } from '../snippet';
import type { StudyMateModel } from '../model';
import { relativeTime } from './hooks';

/** Typing pauses this long before the search goes (each keystroke restarts the wait). */
const SEARCH_DELAY_MS = 300;

type Search =
  | { state: 'idle' }
  | { state: 'searching'; query: string }
  | { state: 'done'; query: string; results: MessageSearchResult[]; hasMore: boolean }
  | { state: 'failed'; query: string; reason: string };

/** The search for `query` as it stands: only the newest query's answer is kept. */
function useMessageSearch(model: StudyMateModel, query: string): Search {
  const [search, setSearch] = React.useState<Search>({ state: 'idle' });
  const asked = React.useRef(0);
  React.useEffect(() => {
    const text = query.trim();
    const ask = ++asked.current;
    if (!text) {
      setSearch({ state: 'idle' });
      return;
    }
    setSearch(current =>
      // The previous matches stay while the next are on their way: the list does not flicker.
      current.state === 'done' ? current : { state: 'searching', query: text }
    );
    const timer = setTimeout(() => {
      model.searchMessages(text).then(
        page => {
          if (ask === asked.current) {
            setSearch({
              state: 'done',
              query: text,
              results: page.results,
              hasMore: page.has_more
            });
          }
        },
        reason => {
          if (ask === asked.current) {
            const detail = reason instanceof StudyMateError ? reason.message : String(reason);
            setSearch({ state: 'failed', query: text, reason: detail });
          }
        }
      );
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [model, query]);
  return search;
}

function Snippet(props: { text: string; marks: MessageSearchResult['marks'] }): JSX.Element {
  return (
    <span className="jp-StudyMate-snippet">
      {splitSnippet(props.text, props.marks).map((part, i) =>
        part.marked ? (
          <mark key={i}>{part.text}</mark>
        ) : (
          <React.Fragment key={i}>{part.text}</React.Fragment>
        )
      )}
    </span>
  );
}

export interface ISearchBoxProps {
  query: string;
  onQuery: (query: string) => void;
}

export function SearchBox(props: ISearchBoxProps): JSX.Element {
  const { query, onQuery } = props;
  return (
    <div className="jp-StudyMate-search" role="search">
      <searchIcon.react tag="span" className="jp-StudyMate-searchIcon" />
      <input
        type="search"
        className="jp-StudyMate-searchInput"
        aria-label="Search messages"
        placeholder="Search your messages"
        value={query}
        onChange={event => onQuery(event.target.value)}
        onKeyDown={event => {
          event.stopPropagation();
          if (event.key === 'Escape') {
            onQuery('');
          }
        }}
      />
      {query && (
        <button
          type="button"
          className="jp-StudyMate-iconButton"
          title="Clear the search"
          aria-label="Clear the search"
          onClick={() => onQuery('')}
        >
          <closeIcon.react tag="span" />
        </button>
      )}
    </div>
  );
}

export interface ISearchResultsProps {
  model: StudyMateModel;
  query: string;
}

/** What a search found, or why there is nothing to show. */
export function SearchResults(props: ISearchResultsProps): JSX.Element {
  const { model, query } = props;
  const search = useMessageSearch(model, query);
  const quoted = `\u201c${query.trim()}\u201d`;

  if (search.state === 'idle' || search.state === 'searching') {
    return (
      <p className="jp-StudyMate-empty" role="status">
        Searching{'\u2026'}
      </p>
    );
  }
  if (search.state === 'failed') {
    return (
      <p className="jp-StudyMate-empty" role="alert">
        The search failed: {search.reason}
      </p>
    );
  }
  if (search.results.length === 0) {
    return (
      <div className="jp-StudyMate-empty" role="status">
        <p>No messages match {quoted}.</p>
        <p className="jp-StudyMate-hint">
          Every word has to be in the message (the last may be the start of one). Try fewer words.
        </p>
      </div>
    );
  }
  const n = search.results.length;
  return (
    <div className="jp-StudyMate-searchResults">
      <p className="jp-StudyMate-searchSummary" role="status">
        {search.hasMore
          ? `The ${n} newest messages matching ${quoted}: add a word to narrow it down.`
          : `${n} ${n === 1 ? 'message matches' : 'messages match'} ${quoted}.`}
      </p>
      <ul className="jp-StudyMate-results" aria-label="Search results">
        {search.results.map(result => (
          <li key={`${result.chat_id}/${result.message_id}`}>
            <button
              type="button"
              className="jp-StudyMate-result"
              data-message-id={result.message_id}
              title={`Open \u201c${result.chat_title}\u201d at this message\n${new Date(
                result.timestamp
              ).toLocaleString()}`}
              onClick={() => model.openMessage(result.chat_id, result.message_id)}
            >
              <span className="jp-StudyMate-resultHead">
                <span className="jp-StudyMate-resultChat">{result.chat_title}</span>
                <span className="jp-StudyMate-chatTime">{relativeTime(result.timestamp)}</span>
              </span>
              <span className="jp-StudyMate-resultBody">
                <span className="jp-StudyMate-resultRole">
                  {result.role === 'user' ? 'You' : 'StudyMate'}:
                </span>{' '}
                <Snippet text={result.snippet} marks={result.marks} />
              </span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
