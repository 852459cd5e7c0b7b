/**
 * The study library: its documents, their ingestion progress from `library` frames (which
 * also carry each one's vector step), the ones the user added from this panel, and how the
 * library ranks passages, with the notice the Library tab shows.
 */
import type { Document, LibraryFrame } from '../protocol';
import type { Action, State } from './state';

export type LibraryAction = Extract<
  Action,
  | { type: 'documents/loaded' }
  | { type: 'document/upserted' }
  | { type: 'document/removed' }
  | { type: 'retrieval/loaded' }
  | { type: 'retrieval/dismissed' }
>;

export function reduceLibrary(state: State, action: LibraryAction): State {
  switch (action.type) {
    case 'documents/loaded': {
      const progress: Record<string, number> = {};
      for (const d of action.documents) {
        const known = state.progress[d.id] ?? d.progress;
        if (d.status === 'indexing' && typeof known === 'number') {
          progress[d.id] = known;
        }
      }
      // `added` keeps ids this list lacks: a list asked for before an add may answer after it.
      return { ...state, documents: action.documents, libraryLoaded: true, progress };
    }
    case 'document/upserted': {
      const next = upsertDocument(state, action.document, action.progress);
      const id = action.document.id;
      return action.added && !next.added.includes(id)
        ? { ...next, added: [...next.added, id] }
        : next;
    }
    case 'document/removed':
      return removeDocument(state, action.documentId);
    case 'retrieval/loaded':
      return { ...state, retrieval: action.info };
    case 'retrieval/dismissed':
      return { ...state, dismissedNotice: state.retrieval?.notice ?? state.dismissedNotice };
  }
}

export function applyLibraryFrame(state: State, frame: LibraryFrame): State {
  if (frame.data.event === 'removed') {
    return removeDocument(state, frame.data.document_id);
  }
  const { document } = frame.data;
  return upsertDocument(state, document, document.progress);
}

function upsertDocument(state: State, document: Document, progress?: number | null): State {
  const others = state.documents.filter(d => d.id !== document.id);
  const index = state.documents.findIndex(d => d.id === document.id);
  const documents =
    index >= 0
      ? state.documents.map(d => (d.id === document.id ? document : d))
      : [document, ...others];
  const nextProgress = { ...state.progress };
  if (document.status === 'indexing' && typeof progress === 'number') {
    nextProgress[document.id] = Math.max(0, Math.min(1, progress));
  } else if (document.status !== 'indexing') {
    delete nextProgress[document.id];
  }
  return { ...state, documents, progress: nextProgress };
}

function removeDocument(state: State, documentId: string): State {
  const progress = { ...state.progress };
  delete progress[documentId];
  return {
    ...state,
    documents: state.documents.filter(d => d.id !== documentId),
    added: state.added.filter(id => id !== documentId),
    progress
  };
}

/**
 * The retrieval notice to show at the top of the Library tab (a ranking signal is missing,
 * and how to add it), once: `null` when there is none or the user dismissed this one.
 */
export function retrievalNotice(state: State): string | null {
  const notice = state.retrieval?.notice ?? null;
  return notice && notice !== state.dismissedNotice ? notice : null;
}

/** Whether the server said the library holds no document (not merely: not loaded yet). */
export function libraryIsEmpty(state: State): boolean {
  return state.libraryLoaded && state.documents.length === 0;
}

/** The documents the user added from this panel, oldest first. */
export function addedDocuments(state: State): Document[] {
  return state.added
    .map(id => state.documents.find(d => d.id === id))
    .filter((d): d is Document => d !== undefined);
}

/** The documents of the course library, which every user on the server reads. */
export function courseDocuments(state: State): Document[] {
  return state.documents.filter(d => d.library === 'course');
}

/** The user's own documents ("My documents"). */
export function personalDocuments(state: State): Document[] {
  // A document from a server older than the course library has no `library`: it is the user's.
  return state.documents.filter(d => d.library !== 'course');
}
