import {
  describeScope,
  isWholeLibrary,
  libraryFolders,
  normalizeFolder,
  scopeFor,
  scopeMode
} from '../scope';

const docs = [
  { id: 'd1', filename: 'notes.md', path: 'physics/notes.md' },
  { id: 'd2', filename: 'press.md', path: 'history/press.md' },
  { id: 'd3', filename: 'waves.pdf', path: 'course/physics/waves.pdf' },
  { id: 'd4', filename: 'top.pdf', path: 'top.pdf' }
];

describe('libraryFolders', () => {
  it('offers every folder holding a document, with its parents, sorted once each', () => {
    expect(libraryFolders(docs)).toEqual(['course', 'course/physics', 'history', 'physics']);
  });

  it('offers nothing for documents at the root or an empty library', () => {
    expect(libraryFolders([{ path: 'a.pdf' }])).toEqual([]);
    expect(libraryFolders([])).toEqual([]);
  });

  it('ignores stray slashes in paths', () => {
    expect(libraryFolders([{ path: '/a//b/c.md' }])).toEqual(['a', 'a/b']);
  });
});

describe('describeScope', () => {
  it('says whole library for no scope or an empty one', () => {
    expect(describeScope(null, docs)).toBe('Whole library');
    expect(describeScope(undefined, docs)).toBe('Whole library');
    expect(describeScope({ folder: null, document_ids: null }, docs)).toBe('Whole library');
    expect(describeScope({}, docs)).toBe('Whole library');
  });

  it('names the folder', () => {
    expect(describeScope({ folder: 'physics', document_ids: null }, docs)).toBe(
      'Folder: physics'
    );
    expect(describeScope({ folder: '/course/physics/' }, docs)).toBe('Folder: course/physics');
  });

  it('names the chosen documents, compactly', () => {
    expect(describeScope({ document_ids: ['d1'] }, docs)).toBe('notes.md');
    expect(describeScope({ document_ids: ['d1', 'd2'] }, docs)).toBe('notes.md, press.md');
    expect(describeScope({ document_ids: ['d1', 'd2', 'd3', 'd4'] }, docs)).toBe(
      'notes.md, press.md and 2 more'
    );
  });

  it('counts a chosen document that left the library, and an empty choice', () => {
    expect(describeScope({ document_ids: ['gone'] }, docs)).toBe('removed document');
    expect(describeScope({ document_ids: [] }, docs)).toBe('no documents');
  });

  it('shows both a folder and documents when a scope has both', () => {
    expect(describeScope({ folder: 'physics', document_ids: ['d1'] }, docs)).toBe(
      'Folder: physics \u00b7 notes.md'
    );
  });
});

describe('scope editor values', () => {
  it('picks the mode a scope was saved with', () => {
    expect(scopeMode(null)).toBe('library');
    expect(scopeMode({ folder: 'physics', document_ids: null })).toBe('folder');
    expect(scopeMode({ folder: null, document_ids: ['d1'] })).toBe('documents');
    expect(isWholeLibrary({ folder: '', document_ids: null })).toBe(true);
  });

  it('builds the PATCH body for each mode', () => {
    expect(scopeFor('library', 'physics', ['d1'])).toBeNull();
    expect(scopeFor('folder', '/physics/', [])).toEqual({ folder: 'physics', document_ids: null });
    expect(scopeFor('folder', '', [])).toBeNull();
    expect(scopeFor('documents', 'physics', ['d1', 'd2'])).toEqual({
      folder: null,
      document_ids: ['d1', 'd2']
    });
    expect(normalizeFolder('//a/b//')).toBe('a/b');
  });
});
