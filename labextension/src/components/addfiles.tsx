/**
 * Adding files to the library from the panel: the "Add files…" button (JupyterLab's
 * open-files dialog over the Jupyter file tree) and, for instructors, "Add to course…"; the
 * empty-library notice a new chat shows, and the files just added with their progress.
 */
import { addIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { Library } from '../protocol';
import { addedDocuments, State } from '../reducer';
import type { IPanelServices } from '../services';
import { CourseBadge } from './course';
import { DocumentSummary } from './document';

/**
 * "Add files…" (or "Add to course…" for the course `library`): choose files in the Jupyter
 * file tree and add them. None without a picker.
 */
export function AddFilesButton(props: {
  services: IPanelServices;
  accept?: boolean;
  library?: Library;
}): JSX.Element | null {
  const { services } = props;
  const library = props.library ?? 'personal';
  const [picking, setPicking] = React.useState(false);
  const pick = services.pickFiles;
  if (!pick) {
    return null;
  }
  const onClick = async () => {
    setPicking(true);
    try {
      const paths = await pick(library);
      if (paths.length) {
        await services.model.addDocuments(paths, library);
      }
    } finally {
      setPicking(false);
    }
  };
  return (
    <button
      type="button"
      className={`jp-StudyMate-button${props.accept ? ' jp-mod-accept' : ''}`}
      title={
        library === 'course'
          ? 'Choose PDFs, Markdown, text files or notebooks to add to the course library, ' +
            'which every student reads'
          : 'Choose PDFs, Markdown, text files or notebooks to add to the StudyMate library'
      }
      disabled={picking}
      onClick={() => void onClick()}
    >
      <addIcon.react tag="span" className="jp-StudyMate-buttonIcon" />
      {library === 'course' ? 'Add to course' : 'Add files'}
      {'\u2026'}
    </button>
  );
}

/** What a new chat says when the library holds nothing: answers need material. */
export function EmptyLibrary(props: { services: IPanelServices }): JSX.Element {
  const { services } = props;
  return (
    <div className="jp-StudyMate-emptyLibrary" role="note" aria-label="Your library is empty">
      <p className="jp-StudyMate-emptyLibraryText">
        <strong>Your library is empty</strong> {'\u2014'} add PDFs, Markdown or notebooks to get
        answers from your own material.
      </p>
      <div className="jp-StudyMate-emptyLibraryActions">
        <AddFilesButton services={services} accept={true} />
        <span className="jp-StudyMate-hint">
          {services.pickFiles ? 'or drag' : 'Drag'} files here from the file browser.
        </span>
      </div>
    </div>
  );
}

/**
 * The files the user added from this panel, with their indexing progress; those an
 * instructor added to the course are marked so.
 */
export function AddedDocuments(props: { state: State }): JSX.Element | null {
  const { state } = props;
  const documents = addedDocuments(state);
  if (!documents.length) {
    return null;
  }
  return (
    <div className="jp-StudyMate-added">
      <span className="jp-StudyMate-addedCaption" aria-hidden="true">
        Added to your library
      </span>
      <ul className="jp-StudyMate-documents" aria-label="Added to your library">
        {documents.map(doc => (
          <li key={doc.id} className="jp-StudyMate-document" data-status={doc.status}>
            <DocumentSummary doc={doc} progress={state.progress[doc.id]} />
            <CourseBadge library={doc.library} />
          </li>
        ))}
      </ul>
    </div>
  );
}
