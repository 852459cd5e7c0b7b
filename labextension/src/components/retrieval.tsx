/**
 * The notice the Library tab shows once, at its top, when the library ranks passages with
 * fewer signals than it could (the MiniLM weights missing, say): what is lost, how to add it.
 */
import * as React from 'react';

export function RetrievalNotice(props: {
  notice: string | null;
  onDismiss: () => void;
}): JSX.Element | null {
  const { notice, onDismiss } = props;
  if (!notice) {
    return null;
  }
  return (
    <div className="jp-StudyMate-notice jp-StudyMate-retrievalNotice" role="status">
      <span>{notice}</span>
      <button type="button" className="jp-StudyMate-link" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
