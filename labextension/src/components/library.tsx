/**
 * The study library: each document's status, ingestion progress and vector step; add,
 * remove, re-index; and, once at the top, what ranking lacks when a signal is missing.
 * Course documents (which every user on the server reads) have their own section above the
 * user's own; only an instructor can add to it, re-index or remove them.
 */
import { deleteIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { Document } from '../protocol';
import {
  courseDocuments,
  isInstructor,
  libraryIsEmpty,
  personalDocuments,
  retrievalNotice,
  State
} from '../reducer';
import type { IPanelServices } from '../services';
import { AddFilesButton } from './addfiles';
import { DocumentSummary } from './document';
import { RetrievalNotice } from './retrieval';

export interface ILibraryProps {
  state: State;
  services: IPanelServices;
}

interface IDocumentRowProps {
  doc: Document;
  progress?: number;
  /** Whether the user may re-index and remove it (a course document: instructors only). */
  editable: boolean;
  services: IPanelServices;
}

function DocumentRow(props: IDocumentRowProps): JSX.Element {
  const { doc, progress, editable, services } = props;
  const { model } = services;
  const course = doc.library === 'course';

  const remove = async () => {
    const body = course
      ? `Remove \u201c${doc.filename}\u201d from the course library? No one on this course ` +
        'can draw on it any more. The file itself stays.'
      : `Remove \u201c${doc.filename}\u201d from the StudyMate library? The file itself stays.`;
    const title = course ? 'Remove from the course library' : 'Remove from library';
    if (await services.confirm(title, body, 'Remove')) {
      await model.removeDocument(doc.id);
    }
  };

  return (
    <li
      className="jp-StudyMate-document"
      data-status={doc.status}
      data-vectors={doc.vectors}
      data-library={doc.library}
    >
      <DocumentSummary doc={doc} progress={progress} />
      {editable && (
        <>
          <button
            type="button"
            className="jp-StudyMate-iconButton"
            title="Re-index"
            aria-label={`Re-index ${doc.filename}`}
            onClick={() => void model.addDocument(doc.path, false, doc.library)}
          >
            <refreshIcon.react tag="span" />
          </button>
          <button
            type="button"
            className="jp-StudyMate-iconButton"
            title={course ? 'Remove from the course library' : 'Remove from library'}
            aria-label={`Remove ${doc.filename}`}
            onClick={() => void remove()}
          >
            <deleteIcon.react tag="span" />
          </button>
        </>
      )}
    </li>
  );
}

interface ISectionProps {
  /** Its heading, also the list's accessible name; none: the list stands alone. */
  title: string | null;
  documents: Document[];
  /** What the section says while it holds no document. */
  empty: string | null;
  editable: boolean;
  state: State;
  services: IPanelServices;
}

function DocumentSection(props: ISectionProps): JSX.Element {
  const { title, documents, empty, editable, state, services } = props;
  const id = title ? `jp-StudyMate-library-${title.replace(/\W+/g, '-').toLowerCase()}` : '';
  return (
    <section className="jp-StudyMate-librarySection" aria-labelledby={title ? id : undefined}>
      {title && (
        <h3 id={id} className="jp-StudyMate-librarySectionTitle">
          {title}
        </h3>
      )}
      {documents.length === 0 && empty && <p className="jp-StudyMate-hint">{empty}</p>}
      <ul className="jp-StudyMate-documents" aria-label={title ?? 'Library'}>
        {documents.map(doc => (
          <DocumentRow
            key={doc.id}
            doc={doc}
            progress={state.progress[doc.id]}
            editable={editable}
            services={services}
          />
        ))}
      </ul>
    </section>
  );
}

export function Library(props: ILibraryProps): JSX.Element {
  const { state, services } = props;
  const { model } = services;
  const instructor = isInstructor(state);
  const course = courseDocuments(state);
  // Without course documents a student's tab looks as it always did: one list, no headings.
  const sections = instructor || course.length > 0;

  return (
    <div className="jp-StudyMate-library">
      <RetrievalNotice
        notice={retrievalNotice(state)}
        onDismiss={() => model.dismissRetrievalNotice()}
      />
      <div className={`jp-StudyMate-libraryBar${instructor ? ' jp-mod-course' : ''}`}>
        <AddFilesButton services={services} />
        {instructor && <AddFilesButton services={services} library="course" />}
        <span className="jp-StudyMate-hint">
          Or drag files onto this panel from the file browser, or right-click one there and
          choose “Add to StudyMate library”
          {instructor ? ' (or \u201cAdd to StudyMate course library\u201d)' : ''}.
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
      {sections && (
        <DocumentSection
          title="Course library"
          documents={course}
          empty={
            'Nothing in the course library yet: \u201cAdd to course\u2026\u201d puts ' +
            'material there for every student.'
          }
          editable={instructor}
          state={state}
          services={services}
        />
      )}
      <DocumentSection
        title={sections ? 'My documents' : null}
        documents={personalDocuments(state)}
        empty={
          sections && !libraryIsEmpty(state)
            ? 'None of your own yet: add PDFs, Markdown or notebooks to draw on them too.'
            : null
        }
        editable={true}
        state={state}
        services={services}
      />
    </div>
  );
}
