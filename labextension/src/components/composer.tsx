/** The message box with Send and Stop: Enter sends, Shift+Enter breaks the line (configurable). */
import * as React from 'react';

export interface IComposerProps {
  onSend: (text: string) => void;
  onStop: () => void;
  onTyping: () => void;
  streaming: boolean;
  sendWithShiftEnter: boolean;
  /** Shown under the box (e.g. "offline: messages are queued"). */
  hint?: string;
  /**
   * The chat the box writes in: when it changes (or the box appears), the box takes the
   * keyboard focus, unless the focus is somewhere else in JupyterLab (a notebook, say).
   */
  focusKey?: string;
}

export function Composer(props: IComposerProps): JSX.Element {
  const [text, setText] = React.useState('');
  const box = React.useRef<HTMLTextAreaElement>(null);

  React.useEffect(() => {
    const node = box.current;
    const active = document.activeElement;
    const panel = node?.closest('.jp-StudyMate');
    if (node && (!active || active === document.body || panel?.contains(active))) {
      node.focus();
    }
  }, [props.focusKey]);

  const send = () => {
    if (!text.trim()) {
      return;
    }
    props.onSend(text);
    setText('');
    box.current?.focus();
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key !== 'Enter' || event.nativeEvent.isComposing) {
      return;
    }
    const wantsSend = props.sendWithShiftEnter ? event.shiftKey : !event.shiftKey;
    if (wantsSend && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      send();
    }
    // Keep JupyterLab's own shortcuts (run cell on Shift+Enter...) out of the message box.
    event.stopPropagation();
  };

  const placeholder = props.sendWithShiftEnter
    ? 'Ask about your course material (Shift+Enter to send)'
    : 'Ask about your course material (Enter to send, Shift+Enter for a new line)';

  return (
    <div className="jp-StudyMate-composer">
      <textarea
        ref={box}
        className="jp-StudyMate-input"
        aria-label="Message"
        placeholder={placeholder}
        rows={3}
        value={text}
        onChange={event => {
          setText(event.target.value);
          props.onTyping();
        }}
        onKeyDown={onKeyDown}
      />
      <div className="jp-StudyMate-composerBar">
        <span className="jp-StudyMate-hint">{props.hint ?? ''}</span>
        {props.streaming && (
          <button type="button" className="jp-StudyMate-button jp-mod-warn" onClick={props.onStop}>
            Stop
          </button>
        )}
        <button
          type="button"
          className="jp-StudyMate-button jp-mod-accept"
          disabled={!text.trim()}
          onClick={send}
        >
          Send
        </button>
      </div>
    </div>
  );
}
