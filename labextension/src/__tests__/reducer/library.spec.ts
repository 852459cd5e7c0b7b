/** The library: documents and their ingestion progress, from lists and library frames. */
import { initialState, reduce, retrievalNotice } from '../../reducer';
import { connected, documentRecord, frame } from './fixtures';

describe('the library', () => {
  const doc = documentRecord('d2', {
    path: 'b.md',
    filename: 'b.md',
    kind: 'markdown',
    progress: 0.25
  });

  it('shows ingestion progress from library frames until the document is ready', () => {
    const pdf = documentRecord('d1', { progress: 0.4 });
    let s = reduce(
      connected(),
      frame({ type: 'library', data: { event: 'updated', document: pdf } })
    );
    expect(s.progress.d1).toBeCloseTo(0.4);
    s = reduce(
      s,
      frame({
        type: 'library',
        data: { event: 'updated', document: { ...pdf, status: 'ready', progress: 1 } }
      })
    );
    expect(s.progress.d1).toBeUndefined();
    expect(s.documents[0].status).toBe('ready');
  });

  it('reads progress from the document of an updated library event, and removes on removed', () => {
    let s = reduce(
      connected(),
      frame({ type: 'library', data: { event: 'updated', document: doc } })
    );
    expect(s.progress.d2).toBeCloseTo(0.25);
    s = reduce(s, frame({ type: 'library', data: { event: 'removed', document_id: 'd2' } }));
    expect(s.documents).toEqual([]);
    expect(s.progress.d2).toBeUndefined();
  });

  it('keeps the progress a document list reports', () => {
    const s = reduce(connected(), { type: 'documents/loaded', documents: [doc] });
    expect(s.progress.d2).toBeCloseTo(0.25);
  });
});

describe('the vector step', () => {
  it('follows library frames: pending with its progress, then ready', () => {
    const ready = documentRecord('d3', { status: 'ready', progress: 1 });
    const updated = (vectors: 'pending' | 'ready', vectors_progress: number) =>
      frame({
        type: 'library',
        data: { event: 'updated', document: { ...ready, vectors, vectors_progress } }
      });
    let s = reduce(connected(), updated('pending', 0.1));
    expect(s.documents[0]).toMatchObject({ vectors: 'pending', vectors_progress: 0.1 });
    s = reduce(s, updated('pending', 0.6));
    expect(s.documents[0].vectors_progress).toBeCloseTo(0.6);
    s = reduce(s, updated('ready', 1));
    expect(s.documents).toHaveLength(1);
    expect(s.documents[0].vectors).toBe('ready');
  });
});

describe('the retrieval notice', () => {
  const notice = 'Ranking uses words only: the MiniLM weights are missing.';
  const info = { name: 'hybrid', signals: ['bm25'], notice };

  it('is shown once the server says a signal is missing, until dismissed', () => {
    let s = initialState();
    expect(retrievalNotice(s)).toBeNull();
    s = reduce(s, { type: 'retrieval/loaded', info });
    expect(retrievalNotice(s)).toBe(notice);
    s = reduce(s, { type: 'retrieval/dismissed' });
    expect(retrievalNotice(s)).toBeNull();
    // Asked again after a reconnect: the same notice stays dismissed.
    s = reduce(s, { type: 'retrieval/loaded', info });
    expect(retrievalNotice(s)).toBeNull();
  });

  it('comes back when the server says something else', () => {
    let s = reduce(initialState(), { type: 'retrieval/loaded', info });
    s = reduce(s, { type: 'retrieval/dismissed' });
    s = reduce(s, { type: 'retrieval/loaded', info: { ...info, notice: 'Other signal lost.' } });
    expect(retrievalNotice(s)).toBe('Other signal lost.');
  });

  it('is not shown when nothing is missing', () => {
    const s = reduce(initialState(), {
      type: 'retrieval/loaded',
      info: { name: 'bm25', signals: ['bm25'], notice: null }
    });
    expect(retrievalNotice(s)).toBeNull();
  });
});
