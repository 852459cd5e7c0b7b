/**
 * The course library in the panel: its own section of the Library tab, read-only for
 * students; "Add to course…" for instructors, whose refusal (403) is told, not swallowed;
 * the "course" mark on citations; and what a citation says when its file is not in the
 * user's Jupyter files.
 */
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { StudyMateError } from '../api';
import { AddedDocuments } from '../components/addfiles';
import { CitationChip, PassageContent } from '../components/citation';
import { Library } from '../components/library';
import { isInFiles } from '../files';
import { missingFileNote } from '../format';
import type { Citation, Document, Passage } from '../protocol';
import { reduce, State } from '../reducer';
import type { IPanelServices } from '../services';
import { connectedModel } from './connected';
import { connected, documentRecord } from './reducer/fixtures';

// JupyterLab's icons are ES modules jest does not load; an icon renders as nothing here.
jest.mock('@jupyterlab/ui-components', () => {
  const icon = { react: () => null };
  return { addIcon: icon, deleteIcon: icon, refreshIcon: icon };
});

const services = {
  model: {},
  pickFiles: async () => [],
  openCitation: async () => 'opened'
} as unknown as IPanelServices;

function render(state: State): string {
  return renderToStaticMarkup(React.createElement(Library, { state, services }));
}

function library(instructor: boolean, ...documents: Document[]): State {
  const me = { user_id: 'u', display_name: 'U', instructor };
  return reduce(reduce(connected(), { type: 'me/loaded', me }), {
    type: 'documents/loaded',
    documents
  });
}

/** The HTML of the section headed `title` (up to the next section). */
function section(html: string, title: string): string {
  const parts = html.split('<section').filter(part => part.includes(`>${title}</h3>`));
  expect(parts).toHaveLength(1);
  return parts[0];
}

const syllabus = documentRecord('syllabus', { library: 'course', status: 'ready', pages: 2 });
const notes = documentRecord('notes', { status: 'ready', pages: 1 });

describe('the Library tab with a course library', () => {
  it('lists course documents under "Course library", apart from "My documents"', () => {
    const html = render(library(false, syllabus, notes));
    const course = section(html, 'Course library');
    expect(course).toContain('syllabus.pdf');
    expect(course).not.toContain('notes.pdf');
    expect(course).toContain('ready \u00b7 2 pages');
    const mine = section(html, 'My documents');
    expect(mine).toContain('notes.pdf');
    expect(mine).not.toContain('syllabus.pdf');
    expect(html.indexOf('Course library')).toBeLessThan(html.indexOf('My documents'));
  });

  it('shows a student the course documents read-only, their own still removable', () => {
    const html = render(library(false, syllabus, notes));
    expect(section(html, 'Course library')).not.toContain('aria-label="Remove syllabus.pdf"');
    expect(section(html, 'Course library')).not.toContain('aria-label="Re-index syllabus.pdf"');
    expect(section(html, 'My documents')).toContain('aria-label="Remove notes.pdf"');
    expect(html).not.toContain('Add to course');
  });

  it('gives an instructor the remove button on course documents and "Add to course…"', () => {
    const html = render(library(true, syllabus, notes));
    expect(section(html, 'Course library')).toContain('aria-label="Remove syllabus.pdf"');
    expect(section(html, 'Course library')).toContain('aria-label="Re-index syllabus.pdf"');
    expect(html).toContain('Add files\u2026');
    expect(html).toContain('Add to course\u2026');
  });

  it('tells an instructor the course library is empty, and a student nothing of it', () => {
    expect(section(render(library(true, notes)), 'Course library')).toContain(
      'Nothing in the course library yet'
    );
    const student = render(library(false, notes));
    expect(student).not.toContain('Course library');
    expect(student).not.toContain('My documents'); // one list, as before the course library
    expect(student).toContain('aria-label="Remove notes.pdf"');
  });

  it('says, for a student with course documents only, that none are their own yet', () => {
    expect(section(render(library(false, syllabus)), 'My documents')).toContain(
      'None of your own yet'
    );
  });
});

describe('adding to the course library', () => {
  afterEach(() => jest.restoreAllMocks());

  it('posts the files with library course and lists them', async () => {
    const added = { ...syllabus, status: 'queued' as const };
    const addDocument = jest.fn().mockResolvedValue(added);
    const { model, notices } = connectedModel({ addDocument });
    const accepted = await model.addDocuments(['course/syllabus.pdf'], 'course');
    expect(addDocument).toHaveBeenCalledWith('course/syllabus.pdf', 'course');
    expect(accepted).toEqual([added]);
    expect(model.state.documents).toEqual([added]);
    expect(notices).toEqual([]);
  });

  it('shows the server refusal (403 forbidden) as the notice, and adds nothing', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const refusal = new StudyMateError(
      403,
      'forbidden',
      'only instructors can change the course library'
    );
    const addDocument = jest.fn().mockRejectedValue(refusal);
    const { model, notices } = connectedModel({ addDocument });
    expect(await model.addDocuments(['syllabus.pdf'], 'course')).toEqual([]);
    expect(notices).toEqual([
      'Cannot add syllabus.pdf to the course library: ' +
        'only instructors can change the course library'
    ]);
    expect(model.state.documents).toEqual([]);
  });

  it('re-indexes into the library the document is in', async () => {
    const addDocument = jest.fn().mockResolvedValue(syllabus);
    const { model } = connectedModel({ addDocument });
    await model.addDocument(syllabus.path, false, 'course');
    await model.addDocument(notes.path);
    expect(addDocument.mock.calls).toEqual([
      [syllabus.path, 'course'],
      [notes.path, 'personal']
    ]);
  });

  it('marks what an instructor just added to the course among the files added', () => {
    let s = reduce(connected(), { type: 'documents/loaded', documents: [] });
    s = reduce(s, { type: 'document/upserted', document: syllabus, added: true });
    s = reduce(s, { type: 'document/upserted', document: notes, added: true });
    const html = renderToStaticMarkup(React.createElement(AddedDocuments, { state: s }));
    const items = html.split('<li ').slice(1);
    expect(items).toHaveLength(2);
    expect(items[0]).toContain('syllabus.pdf');
    expect(items[0]).toContain('aria-label="From the course library"');
    expect(items[1]).not.toContain('From the course library');
  });

  it('learns from GET me whether the user is an instructor', async () => {
    const me = jest.fn().mockResolvedValue({ user_id: 'a', display_name: 'A', instructor: true });
    const { model } = connectedModel({ me });
    await model.refreshMe();
    expect(model.state.me?.instructor).toBe(true);
  });
});

const citation = (changes: Partial<Citation> = {}): Citation => ({
  document_id: 'syllabus',
  chunk_id: 'k1',
  filename: 'syllabus.pdf',
  page_start: 2,
  page_end: 2,
  score: 1,
  path: 'syllabus.pdf',
  ...changes
});

function chip(c: Citation): string {
  return renderToStaticMarkup(
    React.createElement(CitationChip, { n: 1, citation: c, services, showScores: false })
  );
}

describe('a citation of the course library', () => {
  it('carries a "course" mark with an accessible name', () => {
    const html = chip(citation({ library: 'course' }));
    expect(html).toContain('>course</span>');
    expect(html).toContain('role="img" aria-label="From the course library"');
    expect(html).toContain('title="From the course library"');
  });

  it("carries no mark when it cites one of the user's own documents", () => {
    expect(chip(citation({ library: 'personal' }))).not.toContain('From the course library');
    expect(chip(citation())).not.toContain('From the course library');
  });
});

describe("a cited file that is not in the user's Jupyter files", () => {
  const passage: Passage = {
    document_id: 'syllabus',
    chunk_id: 'k1',
    filename: 'syllabus.pdf',
    path: 'syllabus.pdf',
    page_start: 2,
    page_end: 2,
    anchor: null,
    heading: '',
    section: null,
    text: 'Entropy never decreases in an isolated system.',
    source: 'current',
    library: 'course'
  };

  it('is said to be in the course library, above the stored passage', () => {
    const html = renderToStaticMarkup(
      React.createElement(PassageContent, {
        passage: { state: 'ready', chunk: passage },
        note: missingFileNote('course')
      })
    );
    const note =
      'This file is not in your Jupyter files (it is in the course library); the passage is ' +
      'shown below.';
    expect(html).toContain(`role="status">${note}</span>`);
    expect(html.indexOf(note)).toBeLessThan(html.indexOf(passage.text));
  });

  it("is said to be gone when it was the user's own", () => {
    expect(missingFileNote('personal')).toBe(
      'This file is no longer in your Jupyter files; the passage is shown below.'
    );
  });

  it('is told apart by the contents API: only a 404 says it is not there', async () => {
    const answering = (reason: unknown) => ({
      get: jest.fn(() => (reason ? Promise.reject(reason) : Promise.resolve({})))
    });
    expect(await isInFiles(answering(null), 'syllabus.pdf')).toBe(true);
    expect(await isInFiles(answering({ response: { status: 404 } }), 'syllabus.pdf')).toBe(false);
    // Anything else (the server unreachable) is for the open itself to report.
    expect(await isInFiles(answering({ response: { status: 500 } }), 'a.pdf')).toBe(true);
    expect(await isInFiles(answering(new TypeError('Failed to fetch')), 'a.pdf')).toBe(true);
  });
});
