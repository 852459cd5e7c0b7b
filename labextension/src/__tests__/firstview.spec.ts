/**
 * The panel's first view: it opens on a new chat, reopens the chat the user was in last
 * time, says when the library is empty, and lists the files the user adds from it.
 */
import { draggedPaths, isLibraryFile } from '../files';
import { documentStatusLine } from '../format';
import type { Chat, Document } from '../protocol';
import {
  addedDocuments,
  initialState,
  isBlankDraft,
  isDraft,
  libraryIsEmpty,
  reduce,
  State
} from '../reducer';
import { connectedModel } from './connected';

function chat(id: string): Chat {
  const t = '2024-01-01T00:00:00Z';
  return { id, title: id, created_at: t, updated_at: t, message_count: 1, scope: null, unread: 0, read_up_to: null };
}

function doc(id: string, extra: Partial<Document> = {}): Document {
  const t = '2024-01-01T00:00:00Z';
  return {
    id,
    path: `course/${id}.pdf`,
    filename: `${id}.pdf`,
    kind: 'pdf',
    status: 'queued',
    error: null,
    progress: 0,
    pages: 0,
    chunks: 0,
    size: 1,
    sha256: id,
    created_at: t,
    updated_at: t,
    vectors: 'off',
    vectors_progress: 0,
    library: 'personal',
    ...extra
  };
}

describe('the library on the first view', () => {
  const connected = (): State => reduce(initialState(), { type: 'connection/opened' });

  it('is empty only once the server said so, not while its list is on its way', () => {
    let s = connected();
    expect(libraryIsEmpty(s)).toBe(false);
    s = reduce(s, { type: 'documents/loaded', documents: [] });
    expect(libraryIsEmpty(s)).toBe(true);
    s = reduce(s, { type: 'document/upserted', document: doc('a'), added: true });
    expect(libraryIsEmpty(s)).toBe(false);
  });

  it('lists the documents the user added, in order, as they index, until removed', () => {
    let s = reduce(connected(), { type: 'documents/loaded', documents: [doc('old')] });
    s = reduce(s, { type: 'document/upserted', document: doc('a'), added: true });
    s = reduce(s, { type: 'document/upserted', document: doc('b'), added: true });
    // Re-indexing one already there, and another tab's additions, are not "added here".
    s = reduce(s, { type: 'document/upserted', document: doc('old', { status: 'indexing' }) });
    s = reduce(s, {
      type: 'frame',
      frame: { type: 'library', data: { event: 'updated', document: doc('elsewhere') } }
    });
    expect(addedDocuments(s).map(d => d.id)).toEqual(['a', 'b']);

    s = reduce(s, {
      type: 'frame',
      frame: {
        type: 'library',
        data: { event: 'updated', document: doc('a', { status: 'ready', pages: 3, chunks: 5 }) }
      }
    });
    expect(addedDocuments(s)[0]).toMatchObject({ id: 'a', status: 'ready' });
    // Added twice (re-added), listed once.
    s = reduce(s, { type: 'document/upserted', document: doc('a'), added: true });
    expect(addedDocuments(s).map(d => d.id)).toEqual(['a', 'b']);

    s = reduce(s, {
      type: 'frame',
      frame: { type: 'library', data: { event: 'removed', document_id: 'a' } }
    });
    expect(addedDocuments(s).map(d => d.id)).toEqual(['b']);
    expect(s.added).toEqual(['b']);
  });

  it('keeps an added document that a list asked for before the add did not have', () => {
    let s = reduce(connected(), { type: 'document/upserted', document: doc('a'), added: true });
    s = reduce(s, { type: 'documents/loaded', documents: [] });
    expect(addedDocuments(s)).toEqual([]);
    s = reduce(s, {
      type: 'frame',
      frame: { type: 'library', data: { event: 'updated', document: doc('a', { status: 'ready' }) } }
    });
    expect(addedDocuments(s).map(d => d.id)).toEqual(['a']);
  });

  it('says how far a document is', () => {
    expect(documentStatusLine(doc('a', { status: 'indexing' }), 0.42)).toBe('indexing 42%');
    expect(documentStatusLine(doc('a', { status: 'indexing' }))).toBe('indexing\u2026');
    expect(documentStatusLine(doc('a', { status: 'ready', pages: 1, chunks: 4 }))).toBe(
      'ready \u00b7 1 page \u00b7 4 passages'
    );
    expect(documentStatusLine(doc('a', { status: 'ready', pages: 3, chunks: 1 }))).toBe(
      'ready \u00b7 3 pages \u00b7 1 passage'
    );
    expect(documentStatusLine(doc('a', { status: 'failed', error: 'encrypted PDF' }))).toBe(
      'failed'
    );
  });

  it('counts a note in sections and a notebook in cells', () => {
    const note = doc('a', { status: 'ready', kind: 'markdown', pages: 3, chunks: 3 });
    expect(documentStatusLine(note)).toBe('ready \u00b7 3 sections \u00b7 3 passages');
    const notebook = doc('b', { status: 'ready', kind: 'notebook', pages: 1, chunks: 1 });
    expect(documentStatusLine(notebook)).toBe('ready \u00b7 1 cell \u00b7 1 passage');
  });
});

describe('files the library takes', () => {
  it('knows the suffixes the server indexes, whatever their case', () => {
    for (const path of ['a.pdf', 'b/C.MD', 'c.markdown', 'd.txt', 'e.text', 'f.rst', 'g.ipynb']) {
      expect(isLibraryFile(path)).toBe(true);
    }
    for (const path of ['script.py', 'data.csv', 'folder', 'pdf', 'notes.md.bak']) {
      expect(isLibraryFile(path)).toBe(false);
    }
  });

  it('reads the paths of a file-browser drag, and nothing from other drags', () => {
    const mime = (data: Record<string, unknown>) => ({ getData: (m: string) => data[m] });
    expect(
      draggedPaths(mime({ 'application/x-jupyter-icontents': ['course/a.pdf', 'b.md'] }))
    ).toEqual(['course/a.pdf', 'b.md']);
    expect(draggedPaths(mime({ 'application/vnd.lumino.widget-factory': () => null }))).toEqual(
      []
    );
    expect(draggedPaths(mime({ 'application/x-jupyter-icontents': 'a.pdf' }))).toEqual([]);
    expect(draggedPaths(mime({ 'application/x-jupyter-icontents': ['', 3, 'a.pdf'] }))).toEqual([
      'a.pdf'
    ]);
  });
});

/** A model on an open connection with a fake API; `chats()` answers `list`. */
function setUp(list: Chat[] = []) {
  let answerChats!: (chats: Chat[]) => void;
  const chats = jest.fn(
    () => new Promise<Chat[]>(resolve => (answerChats = resolve))
  );
  const addDocument = jest.fn(async (path: string) =>
    doc(path.replace(/\W/g, '_'), { path, filename: path })
  );
  const { model, frames, notices } = connectedModel({ chats, addDocument });
  const loadChats = async () => {
    const pending = model.refreshChats();
    answerChats(list);
    await pending;
  };
  return { model, frames, notices, addDocument, loadChats };
}

describe('the chat the panel opens on', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is a new chat, blank, that the first question creates', () => {
    const { model, frames } = setUp();
    const opening = model.state.activeChat;
    expect(isDraft(opening)).toBe(true);
    expect(isBlankDraft(model.state, opening)).toBe(true);
    model.send('What is entropy?');
    expect(isBlankDraft(model.state, opening)).toBe(false);
    expect(frames.filter(f => f.type === 'message').map(f => f.data)).toEqual([
      { message: expect.objectContaining({ content: 'What is entropy?' }) }
    ]);
  });

  it('is the chat the user was in last time, once the chat list has it', async () => {
    const { model, frames, loadChats } = setUp([chat('a'), chat('b')]);
    model.restoreChat('b');
    expect(isDraft(model.state.activeChat)).toBe(true); // the list is not there yet
    await loadChats();
    expect(model.state.activeChat).toBe('b');
    expect(frames).toContainEqual({ type: 'load_messages', data: { chat_id: 'b' } });
  });

  it('is reopened when the saved chat is known after the list arrived', async () => {
    const { model, loadChats } = setUp([chat('a')]);
    await loadChats();
    model.restoreChat('a');
    expect(model.state.activeChat).toBe('a');
  });

  it('stays the new chat when the saved chat was deleted meanwhile', async () => {
    const list = [chat('a')];
    const { model, loadChats } = setUp(list);
    const opening = model.state.activeChat;
    model.restoreChat('gone');
    await loadChats();
    expect(model.state.activeChat).toBe(opening);
    // Forgotten: a later list (after a reconnect) that has a chat of that id changes nothing.
    list.push(chat('gone'));
    await loadChats();
    expect(model.state.chats.map(c => c.id)).toContain('gone');
    expect(model.state.activeChat).toBe(opening);
  });

  it('is not taken away from a user who already started in the new chat', async () => {
    const { model, loadChats } = setUp([chat('a')]);
    const opening = model.state.activeChat;
    model.restoreChat('a');
    model.send('Asked before the list came');
    await loadChats();
    expect(model.state.activeChat).toBe(opening);
  });

  it('is not taken away from a user who went to the chat list', async () => {
    const { model, loadChats } = setUp([chat('a')]);
    model.restoreChat('a');
    model.openChat(null);
    await loadChats();
    expect(model.state.activeChat).toBeNull();
  });
});

describe('adding files from the panel', () => {
  afterEach(() => jest.restoreAllMocks());

  it('posts each file the library takes, lists them as added, and names the others', async () => {
    const { model, notices, addDocument } = setUp();
    const added = await model.addDocuments(['course/a.pdf', 'script.py', 'notes.md', 'data']);
    expect(addDocument.mock.calls.map(c => c[0])).toEqual(['course/a.pdf', 'notes.md']);
    expect(added.map(d => d.path)).toEqual(['course/a.pdf', 'notes.md']);
    expect(addedDocuments(model.state).map(d => d.path)).toEqual(['course/a.pdf', 'notes.md']);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^Not added: script\.py, data\. The library takes PDFs/);
  });

  it('re-indexing a document does not list it as added', async () => {
    const { model, addDocument } = setUp();
    await model.addDocument('course/a.pdf');
    expect(addDocument).toHaveBeenCalledTimes(1);
    expect(addedDocuments(model.state)).toEqual([]);
  });
});
