/**
 * The warning an open chat shows while its assistant cannot answer (the model server is down,
 * refuses the key, lacks the model): who cannot answer, the server's sentence why, and a way
 * to check again once it is fixed. Who answers, when it can, is the composer's hint.
 */
import * as React from 'react';

export function AssistantNotice(props: {
  warning: string | null;
  onCheck: () => void;
}): JSX.Element | null {
  const { warning, onCheck } = props;
  if (!warning) {
    return null;
  }
  // Text, never HTML: the sentence comes from the server.
  return (
    <div className="jp-StudyMate-notice jp-StudyMate-assistantNotice" role="status">
      <span>{warning}</span>
      {/* Kept on one line: the sidebar is narrow, and a broken label reads as two links. */}
      <button
        type="button"
        className="jp-StudyMate-link"
        style={{ whiteSpace: 'nowrap' }}
        onClick={onCheck}
      >
        Check again
      </button>
    </div>
  );
}
