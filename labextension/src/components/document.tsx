/**
 * A library document's name, status line, indexing progress, failure reason, and its vector
 * step while that is under way or failed.
 */
import * as React from 'react';

import { documentStatusLine, vectorStatusLine } from '../format';
import type { Document } from '../protocol';

export function DocumentSummary(props: { doc: Document; progress?: number }): JSX.Element {
  const { doc, progress } = props;
  const vectors = vectorStatusLine(doc);
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
      {vectors !== null && (
        <span
          className={`jp-StudyMate-status jp-StudyMate-vectors jp-mod-${doc.vectors}`}
          data-vectors={doc.vectors}
          title={
            doc.vectors === 'failed'
              ? 'Its vectors could not be computed: search finds it by its words only.'
              : 'Searchable by its words now; its vectors are computed in the background.'
          }
        >
          {vectors}
        </span>
      )}
      {vectors !== null && doc.vectors === 'pending' && (
        <progress
          className="jp-StudyMate-progress"
          max={1}
          value={doc.vectors_progress}
          aria-label={`Computing the vectors of ${doc.filename}`}
        />
      )}
    </div>
  );
}
