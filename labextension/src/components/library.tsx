/**
 * The study library: each document's status, ingestion progress and vector step; add,
 * remove, re-index; and, once at the top, what ranking lacks when a signal is missing.
 */
import { deleteIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { Document } from '../protocol';
import { libraryIsEmpty, retrievalNotice, State } from '../reducer';
import type { IPanelServices } from '../services';
import { AddFilesButton } from './addfiles';
import { DocumentSummary } from './document';
import { RetrievalNotice } from './retrieval';

export interface ILibraryProps {
  state: State;
  services: IPanelServices;
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
      <RetrievalNotice
        notice={retrievalNotice(state)}
        onDismiss={() => model.dismissRetrievalNotice()}
      />
      <div className="jp-StudyMate-libraryBar">
        <AddFilesButton services={services} />
        <span className="jp-StudyMate-hint">
          Or drag files onto this panel from the file browser, or right-click one there and
          choose “Add to StudyMate library”.
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
      {libraryIsEmpty(state) && (
        <p className="jp-StudyMate-empty">
          Your library is empty {'\u2014'} add PDFs, Markdown or notebooks to get answers from
          your own material.
        </p>
      )}
      <ul className="jp-StudyMate-documents" aria-label="Library">
        {state.documents.map(doc => (
          <li
            key={doc.id}
            className="jp-StudyMate-document"
            data-status={doc.status}
            data-vectors={doc.vectors}
          >
            <DocumentSummary doc={doc} progress={state.progress[doc.id]} />
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
        ))}
      </ul>
    </div>
  );
}
