/** A library document's name, status line, indexing progress and failure reason. */
import * as React from 'react';

import { documentStatusLine } from '../format';
import type { Document } from '../protocol';

export function DocumentSummary(props: { doc: Document; progress?: number }): JSX.Element {
  const { doc, progress } = props;
  return (
    <div className="jp-StudyMate-documentMain">
      <span className="jp-StudyMate-documentName" title={doc.path}>
        {doc.filename}
      </span>
      <span className={`jp-StudyMate-status jp-mod-${doc.status}`}>
        {documentStatusLine(doc, progress)}
      </span>
      {doc.status === 'indexing' && (
        <progress
          className="jp-StudyMate-progress"
          max={1}
          value={progress}
          aria-label={`Indexing ${doc.filename}`}
        />
      )}
      {doc.status === 'failed' && doc.error && (
        <span className="jp-StudyMate-documentError">{doc.error}</span>
      )}
    </div>
  );
}
