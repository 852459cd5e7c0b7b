/** The study library: each document's status and ingestion progress, remove and re-index. */
import { deleteIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { Document } from '../protocol';
import type { State } from '../reducer';
import type { IPanelServices } from '../services';

export interface ILibraryProps {
  state: State;
  services: IPanelServices;
}

function statusText(doc: Document, progress: number | undefined): string {
  switch (doc.status) {
    case 'indexing':
      return progress === undefined ? 'indexing\u2026' : `indexing ${Math.round(progress * 100)}%`;
    case 'ready':
      return `ready \u00b7 ${doc.pages} ${doc.pages === 1 ? 'page' : 'pages'} \u00b7 ${doc.chunks} passages`;
    case 'failed':
      return 'failed';
    default:
      return doc.status;
  }
}

export function Library(props: ILibraryProps): JSX.Element {
  const { state, services } = props;
  const { model } = services;

  const remove = async (doc: Document) => {
    if (await services.confirm('Remove from library', `Remove \u201c${doc.filename}\u201d from the StudyMate library? The file itself stays.`, 'Remove')) {
      await model.removeDocument(doc.id);
    }
  };

  return (
    <div className="jp-StudyMate-library">
      <div className="jp-StudyMate-libraryBar">
        <span className="jp-StudyMate-hint">
          Right-click a PDF, Markdown, text file or notebook in the file browser and choose
          “Add to StudyMate library”.
        </span>
        <button
          type="button"
          className="jp-StudyMate-iconButton"
          title="Refresh"
          aria-label="Refresh the library"
          onClick={() => void model.refreshDocuments()}
        >
          <refreshIcon.react tag="span" />
        </button>
      </div>
      {state.documents.length === 0 && <p className="jp-StudyMate-empty">The library is empty.</p>}
      <ul className="jp-StudyMate-documents" aria-label="Library">
        {state.documents.map(doc => {
          const progress = state.progress[doc.id];
          return (
            <li key={doc.id} className="jp-StudyMate-document" data-status={doc.status}>
              <div className="jp-StudyMate-documentMain">
                <span className="jp-StudyMate-documentName" title={doc.path}>
                  {doc.filename}
                </span>
                <span className={`jp-StudyMate-status jp-mod-${doc.status}`}>
                  {statusText(doc, progress)}
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
              <button
                type="button"
                className="jp-StudyMate-iconButton"
                title="Re-index"
                aria-label={`Re-index ${doc.filename}`}
                onClick={() => void model.addDocument(doc.path)}
              >
                <refreshIcon.react tag="span" />
              </button>
              <button
                type="button"
                className="jp-StudyMate-iconButton"
                title="Remove from library"
                aria-label={`Remove ${doc.filename}`}
                onClick={() => void remove(doc)}
              >
                <deleteIcon.react tag="span" />
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
