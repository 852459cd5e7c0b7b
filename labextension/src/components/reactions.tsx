/**
 * Under a stored message: its reactions as chips with counts (a click takes the user's own
 * off or puts it on), a picker of the protocol's emoji, and on an answer the user's thumbs up
 * or down with an optional note after a thumbs-down. Nothing changes here until the server's
 * `reaction` or `feedback` frame says so, which every tab of the user gets alike.
 */
import * as React from 'react';

import { MAX_FEEDBACK_NOTE, REACTION_EMOJI, type Rating } from '../protocol';
import { canReact, hasReacted, nextRating, reactionChips, toggleReaction } from '../reactions';
import type { LocalMessage } from '../reducer';
import type { StudyMateModel } from '../model';

export interface IMessageReactionsProps {
  message: LocalMessage;
  chatId: string;
  userId: string | null;
  model: StudyMateModel;
}

// Material Design's thumb_up (Apache 2.0, as JupyterLab's own icons): an outline drawn here
// so the rating does not look like the 👍 reaction beside it.
const THUMB =
  'M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 ' +
  '1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09' +
  '-.23.14-.47.14-.73v-2z';

function Thumb(props: { down?: boolean }): JSX.Element {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" className={props.down ? 'jp-mod-down' : ''}>
      <path d={THUMB} />
    </svg>
  );
}

const RATING_LABEL: Record<Rating, string> = {
  up: 'Helpful answer',
  down: 'Not a helpful answer'
};

export function MessageReactions(props: IMessageReactionsProps): JSX.Element {
  const { message, chatId, userId, model } = props;
  const [picking, setPicking] = React.useState(false);
  const picker = React.useRef<HTMLDivElement>(null);
  const chips = reactionChips(message.reactions, userId);
  const isAnswer = message.role === 'assistant';

  const react = (emoji: string) => {
    model.react(chatId, message.id, emoji, toggleReaction(message.reactions, emoji, userId));
  };

  React.useEffect(() => {
    if (!picking) {
      return;
    }
    // The picker closes on a click anywhere else, as a menu does.
    const onDown = (event: MouseEvent) => {
      if (!picker.current?.contains(event.target as Node)) {
        setPicking(false);
      }
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [picking]);

  return (
    <div className="jp-StudyMate-messageFooter">
      <div className="jp-StudyMate-reactions" role="group" aria-label="Reactions">
        {chips.map(chip => (
          <button
            key={chip.emoji}
            type="button"
            className={`jp-StudyMate-reaction${chip.mine ? ' jp-mod-mine' : ''}`}
            aria-pressed={chip.mine}
            title={chip.mine ? `${chip.title} (click to take yours off)` : chip.title}
            aria-label={`${chip.emoji} ${chip.count}`}
            disabled={!chip.mine && !canReact(message.reactions, chip.emoji, userId)}
            onClick={() => react(chip.emoji)}
          >
            <span className="jp-StudyMate-reactionEmoji">{chip.emoji}</span>
            <span className="jp-StudyMate-reactionCount">{chip.count}</span>
          </button>
        ))}
        <div className="jp-StudyMate-pickerAnchor" ref={picker}>
          <button
            type="button"
            className="jp-StudyMate-iconButton jp-StudyMate-addReaction"
            title="Add a reaction"
            aria-label="Add a reaction"
            aria-expanded={picking}
            onClick={() => setPicking(!picking)}
          >
            <span aria-hidden="true">{'\u263A'}</span>
            <span aria-hidden="true" className="jp-StudyMate-plus">
              +
            </span>
          </button>
          {picking && (
            <div
              className="jp-StudyMate-picker"
              role="toolbar"
              aria-label="Choose a reaction"
              onKeyDown={event => {
                if (event.key === 'Escape') {
                  event.stopPropagation();
                  setPicking(false);
                }
              }}
            >
              {REACTION_EMOJI.map(emoji => {
                const mine = hasReacted(message.reactions, emoji, userId);
                return (
                  <button
                    key={emoji}
                    type="button"
                    className={`jp-StudyMate-pickerEmoji${mine ? ' jp-mod-mine' : ''}`}
                    aria-pressed={mine}
                    aria-label={`React with ${emoji}`}
                    title={
                      canReact(message.reactions, emoji, userId)
                        ? mine
                          ? `Take ${emoji} off`
                          : `React with ${emoji}`
                        : 'At most five different reactions per message'
                    }
                    disabled={!canReact(message.reactions, emoji, userId)}
                    onClick={() => {
                      react(emoji);
                      setPicking(false);
                    }}
                  >
                    {emoji}
                  </button>
                );
              })}
            </div>
          )}
        </div>
      </div>
      {isAnswer && <AnswerFeedback {...props} />}
    </div>
  );
}

/** Thumbs up or down on an answer; after a thumbs-down, a box for an optional note. */
function AnswerFeedback(props: IMessageReactionsProps): JSX.Element {
  const { message, chatId, model } = props;
  const rating = message.feedback?.rating ?? null;
  const note = message.feedback?.note ?? null;
  const [noting, setNoting] = React.useState(false);
  const [draft, setDraft] = React.useState('');
  const box = React.useRef<HTMLTextAreaElement>(null);

  React.useEffect(() => {
    if (noting) {
      box.current?.focus();
    }
  }, [noting]);
  React.useEffect(() => {
    // Taken back (here or in another tab): there is nothing to write a note about.
    if (rating !== 'down') {
      setNoting(false);
    }
  }, [rating]);

  const rate = (clicked: Rating) => {
    const next = nextRating(rating, clicked);
    model.rate(chatId, message.id, next);
    if (next === 'down') {
      setDraft(note ?? '');
      setNoting(true);
    }
  };

  const sendNote = () => {
    model.rate(chatId, message.id, 'down', draft.trim());
    setNoting(false);
  };

  return (
    <>
      <div className="jp-StudyMate-thumbs" role="group" aria-label="Rate this answer">
        {(['up', 'down'] as const).map(r => (
          <button
            key={r}
            type="button"
            className={`jp-StudyMate-iconButton jp-StudyMate-thumb jp-mod-${r}`}
            aria-pressed={rating === r}
            aria-label={RATING_LABEL[r]}
            title={rating === r ? `${RATING_LABEL[r]} (click to take it back)` : RATING_LABEL[r]}
            onClick={() => rate(r)}
          >
            <Thumb down={r === 'down'} />
          </button>
        ))}
      </div>
      {rating === 'down' && note && !noting && (
        <p className="jp-StudyMate-feedbackNote">
          <span className="jp-StudyMate-feedbackNoteLabel">Your note: </span>
          <span className="jp-StudyMate-feedbackNoteText">{note}</span>{' '}
          <button
            type="button"
            className="jp-StudyMate-link"
            onClick={() => {
              setDraft(note);
              setNoting(true);
            }}
          >
            Edit
          </button>
        </p>
      )}
      {noting && (
        <form
          className="jp-StudyMate-noteForm"
          aria-label="Note on this answer"
          onSubmit={event => {
            event.preventDefault();
            sendNote();
          }}
        >
          <textarea
            ref={box}
            className="jp-StudyMate-noteBox"
            aria-label="What was wrong with this answer? (optional)"
            placeholder="What was wrong with this answer? (optional)"
            rows={2}
            maxLength={MAX_FEEDBACK_NOTE}
            value={draft}
            onChange={event => setDraft(event.target.value)}
            onKeyDown={event => {
              // JupyterLab's shortcuts stay out of the box; Escape closes it.
              event.stopPropagation();
              if (event.key === 'Escape') {
                setNoting(false);
              }
            }}
          />
          <div className="jp-StudyMate-noteBar">
            <span className="jp-StudyMate-hint">
              {draft.length}/{MAX_FEEDBACK_NOTE}
            </span>
            <button type="button" className="jp-StudyMate-button" onClick={() => setNoting(false)}>
              Skip
            </button>
            <button
              type="submit"
              className="jp-StudyMate-button jp-mod-accept"
              disabled={!draft.trim() && !note}
            >
              Send note
            </button>
          </div>
        </form>
      )}
    </>
  );
}
