/** The library: documents and their ingestion progress, from lists and library frames. */
import { reduce } from '../../reducer';
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
