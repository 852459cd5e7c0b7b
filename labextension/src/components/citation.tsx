/**
 * A citation chip `[n] file p.X–Y` (`[n] file § Section` for a Markdown section or notebook
 * cell), marked "course" when it cites the course library: click opens the document at the
 * page or anchor, hover or the expander shows the cited passage (fetched once from the
 * library) under its section title. A file that is not in the user's Jupyter files (a course
 * document on a student's server) cannot be opened: the chip says so and shows the passage.
 */
import * as React from 'react';

import { citationLabel, citationTitle, missingFileNote, passageBody } from '../format';
import type { Citation, Passage } from '../protocol';
import type { IPanelServices } from '../services';
import { CourseBadge } from './course';

export interface ICitationProps {
  n: number;
  citation: Citation;
  services: IPanelServices;
  showScores: boolean;
}

export type Preview =
  | { state: 'idle' | 'loading' }
  | { state: 'ready'; chunk: Passage }
  | { state: 'failed'; reason: string };

const SOURCE_NOTE: Record<string, string> = {
  changed: 'The file has been indexed again since: this is the passage as it was cited.',
  removed: 'The document has left the library: this is the passage as it was cited.'
};

/** The cited passage as far as it has loaded, under `note` when there is one to read first. */
export function PassageContent(props: { passage: Preview; note?: string | null }): JSX.Element {
  const { passage, note } = props;
  return (
    <>
      {note && (
        <span className="jp-StudyMate-passageNote jp-StudyMate-missingFile" role="status">
          {note}
        </span>
      )}
      {passage.state === 'ready' && (
        <>
          {passage.chunk.section && (
            <span className="jp-StudyMate-passageHeading">{passage.chunk.section}</span>
          )}
          <span className="jp-StudyMate-passageText">
            {passageBody(passage.chunk.text, passage.chunk.section)}
          </span>
          {passage.chunk.source && SOURCE_NOTE[passage.chunk.source] && (
            <span className="jp-StudyMate-passageNote">{SOURCE_NOTE[passage.chunk.source]}</span>
          )}
        </>
      )}
      {(passage.state === 'loading' || passage.state === 'idle') && 'Loading the passage\u2026'}
      {passage.state === 'failed' && `The passage is not available (${passage.reason}).`}
    </>
  );
}

export function CitationChip(props: ICitationProps): JSX.Element {
  const { n, citation, services, showScores } = props;
  const [passage, setPassage] = React.useState<Preview>({ state: 'idle' });
  const [expanded, setExpanded] = React.useState(false);
  const [hover, setHover] = React.useState(false);
  const [opening, setOpening] = React.useState(false);
  // Set once opening found no such file: from then on the chip shows the passage instead.
  const [missing, setMissing] = React.useState(false);

  const load = React.useCallback(() => {
    if (passage.state !== 'idle') {
      return;
    }
    setPassage({ state: 'loading' });
    services.model
      .chunk(citation.document_id, citation.chunk_id)
      .then(chunk => setPassage({ state: 'ready', chunk }))
      .catch(reason => setPassage({ state: 'failed', reason: String(reason?.message ?? reason) }));
  }, [passage.state, services, citation]);

  const open = async () => {
    setOpening(true);
    try {
      if ((await services.openCitation(citation)) === 'missing') {
        setMissing(true);
        setExpanded(true);
        load();
      }
    } finally {
      setOpening(false);
    }
  };

  const show = expanded || hover;
  const id = `jp-StudyMate-passage-${citation.document_id}-${citation.chunk_id}-${n}`;
  return (
    <span
      className="jp-StudyMate-citation"
      onMouseEnter={() => {
        setHover(true);
        load();
      }}
      onMouseLeave={() => setHover(false)}
    >
      {/* One row that shrinks the file name, so that the mark never wraps off on its own. */}
      <span className="jp-StudyMate-chipRow">
        <button
          type="button"
          className="jp-StudyMate-chip"
          title={citationTitle(citation, showScores)}
          aria-describedby={show ? id : undefined}
          data-document-id={citation.document_id}
          data-page={citation.page_start}
          disabled={opening}
          onClick={() => void open()}
        >
          {citationLabel(n, citation)}
        </button>
        <button
          type="button"
          className="jp-StudyMate-chipExpand"
          aria-expanded={expanded}
          aria-label={`Show passage ${n}`}
          title="Show the cited passage"
          onClick={() => {
            setExpanded(!expanded);
            load();
          }}
        >
          {expanded ? '\u25BE' : '\u25B8'}
        </button>
        <CourseBadge library={citation.library} />
      </span>
      {show && (
        <span
          id={id}
          role="tooltip"
          className={`jp-StudyMate-passage${expanded ? '' : ' jp-mod-floating'}`}
        >
          <PassageContent
            passage={passage}
            note={missing ? missingFileNote(citation.library) : null}
          />
        </span>
      )}
    </span>
  );
}
