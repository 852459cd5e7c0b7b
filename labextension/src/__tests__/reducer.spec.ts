import {
  Action,
  State,
  draftsToCreate,
  dueMessages,
  initialState,
  isStreaming,
  messagesOf,
  reduce,
  typingIn
} from '../reducer';
import type { Chat, ChatEventData, Document, Message, ServerFrame } from '../protocol';
import { isOpenCitationCommMessage, parseServerFrame } from '../protocol';

function run(state: State, ...actions: Action[]): State {
  return actions.reduce(reduce, state);
}

function frame(f: ServerFrame): Action {
  return { type: 'frame', frame: f };
}

/** A frame with fewer fields than the protocol declares, as the seed contract's servers send. */
function sparseFrame(f: { type: ServerFrame['type']; data: object }): Action {
  return { type: 'frame', frame: f as unknown as ServerFrame };
}

function msg(
  id: string,
  timestamp: string,
  extra: Partial<Message> = {}
): Message {
  return {
    id,
    role: 'user',
    content: id,
    citations: [],
    timestamp,
    chat_id: 'c1',
    status: 'complete',
    ...extra
  };
}

function echo(m: Message, chatId = 'c1'): Action {
  return frame({ type: 'message', data: { message: m, user_id: 'u', chat_id: chatId } });
}

function chat(id: string, updated: string): Chat {
  return { id, title: id, created_at: updated, updated_at: updated, message_count: 0, scope: null };
}

/** What `chat_created` and `chat_updated` carry: the whole chat and its `chat_id`. */
function chatEvent(id: string, changes: Partial<Chat> = {}): ChatEventData {
  return { ...chat(id, '2024-01-01T00:00:00Z'), ...changes, chat_id: id };
}

function documentRecord(id: string, changes: Partial<Document> = {}): Document {
  return {
    id,
    path: `notes/${id}.pdf`,
    filename: `${id}.pdf`,
    kind: 'pdf',
    status: 'indexing',
    error: null,
    progress: 0,
    pages: 0,
    chunks: 0,
    size: 10,
    sha256: id,
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    ...changes
  };
}

function ids(state: State, chatKey: string): string[] {
  return messagesOf(state, chatKey).map(m => m.id);
}

const connected = (): State => reduce(initialState(), { type: 'connection/opened' });

describe('upsert by id', () => {
  it('renders a streamed reply as one message whose content grows', () => {
    const parts = ['The', 'The answer', 'The answer is 42.'];
    let s = connected();
    parts.forEach((content, i) => {
      s = reduce(
        s,
        echo(
          msg('r1', '2024-01-01T00:00:01Z', {
            role: 'assistant',
            content,
            status: i < parts.length - 1 ? 'streaming' : 'complete'
          })
        )
      );
    });
    const list = messagesOf(s, 'c1');
    expect(list).toHaveLength(1);
    expect(list[0].content).toBe('The answer is 42.');
    expect(list[0].status).toBe('complete');
  });

  it('keeps fields a later frame leaves out (merge, as the seed client does)', () => {
    const s = run(
      connected(),
      echo(
        msg('r1', '2024-01-01T00:00:01Z', {
          role: 'assistant',
          citations: [
            {
              document_id: 'd',
              chunk_id: 'k',
              filename: 'a.pdf',
              page_start: 1,
              page_end: 2,
              score: 0.5
            }
          ]
        })
      ),
      // Without citations: the frame adds to the message it updates.
      sparseFrame({
        type: 'message',
        data: {
          message: {
            id: 'r1',
            role: 'assistant',
            content: 'more',
            timestamp: '2024-01-01T00:00:01Z'
          },
          user_id: 'u',
          chat_id: 'c1'
        }
      })
    );
    expect(messagesOf(s, 'c1')[0].citations).toHaveLength(1);
    expect(messagesOf(s, 'c1')[0].content).toBe('more');
  });

  it('reports streaming while the assistant reply has status streaming', () => {
    let s = run(
      connected(),
      echo(msg('r1', '2024-01-01T00:00:01Z', { role: 'assistant', status: 'streaming' }))
    );
    expect(isStreaming(s, 'c1')).toBe(true);
    s = reduce(s, echo(msg('r1', '2024-01-01T00:00:01Z', { role: 'assistant', status: 'stopped' })));
    expect(isStreaming(s, 'c1')).toBe(false);
  });
});

describe('ordering', () => {
  it('orders by server timestamp, whatever the arrival order', () => {
    const s = run(
      connected(),
      echo(msg('b', '2024-01-01T00:00:02Z')),
      echo(msg('a', '2024-01-01T00:00:01Z')),
      echo(msg('c', '2024-01-01T00:00:03Z'))
    );
    expect(ids(s, 'c1')).toEqual(['a', 'b', 'c']);
  });

  it('breaks timestamp ties by arrival', () => {
    const s = run(
      connected(),
      echo(msg('q', '2024-01-01T00:00:01Z')),
      echo(msg('r', '2024-01-01T00:00:01Z', { role: 'assistant' }))
    );
    expect(ids(s, 'c1')).toEqual(['q', 'r']);
  });

  it('keeps unacknowledged messages last, then moves them to the server timestamp', () => {
    let s = run(
      connected(),
      echo(msg('old', '2024-01-01T00:00:05Z')),
      // A browser clock far behind the server's must not put a new message on top.
      { type: 'send', id: 'mine', chatKey: 'c1', content: 'hi', timestamp: '2000-01-01T00:00:00Z' }
    );
    expect(ids(s, 'c1')).toEqual(['old', 'mine']);
    expect(messagesOf(s, 'c1')[1].pending).toBe(true);
    s = reduce(s, echo(msg('mine', '2024-01-01T00:00:06Z', { content: 'hi' })));
    expect(ids(s, 'c1')).toEqual(['old', 'mine']);
    expect(messagesOf(s, 'c1')[1].pending).toBe(false);
    expect(messagesOf(s, 'c1')[1].timestamp).toBe('2024-01-01T00:00:06Z');
  });

  it('lists chats newest first and moves a chat up when a message arrives in it', () => {
    let s = run(connected(), {
      type: 'chats/loaded',
      chats: [chat('old', '2024-01-01T00:00:00Z'), chat('new', '2024-01-02T00:00:00Z')]
    });
    expect(s.chats.map(c => c.id)).toEqual(['new', 'old']);
    s = reduce(s, echo(msg('m', '2024-01-03T00:00:00Z', { chat_id: 'old' }), 'old'));
    expect(s.chats.map(c => c.id)).toEqual(['old', 'new']);
  });
});

describe('pages merge', () => {
  const page = (messages: Message[], has_more: boolean): Action =>
    frame({ type: 'messages', data: { chat_id: 'c1', messages, has_more } });

  it('merges an older page in front of what is shown, without duplicates', () => {
    const s = run(
      connected(),
      page([msg('m3', '2024-01-01T00:00:03Z'), msg('m4', '2024-01-01T00:00:04Z')], true),
      page([msg('m1', '2024-01-01T00:00:01Z'), msg('m2', '2024-01-01T00:00:02Z')], false),
      page([msg('m3', '2024-01-01T00:00:03Z'), msg('m4', '2024-01-01T00:00:04Z')], true)
    );
    expect(ids(s, 'c1')).toEqual(['m1', 'm2', 'm3', 'm4']);
    // The newest page reloaded after reconnect says nothing about the older pages loaded.
    expect(s.hasMore.c1).toBe(false);
  });

  it('takes has_more from the first page', () => {
    const s = run(connected(), page([msg('m3', '2024-01-01T00:00:03Z')], true));
    expect(s.hasMore.c1).toBe(true);
  });

  it('replaces a stale streaming state with the reloaded one', () => {
    const s = run(
      connected(),
      echo(msg('r', '2024-01-01T00:00:01Z', { role: 'assistant', content: 'par', status: 'streaming' })),
      page(
        [msg('r', '2024-01-01T00:00:01Z', { role: 'assistant', content: 'partial answer', status: 'complete' })],
        false
      )
    );
    expect(messagesOf(s, 'c1')).toHaveLength(1);
    expect(messagesOf(s, 'c1')[0].content).toBe('partial answer');
    expect(isStreaming(s, 'c1')).toBe(false);
  });
});

describe('offline queue', () => {
  const send = (id: string, chatKey = 'c1'): Action => ({
    type: 'send',
    id,
    chatKey,
    content: `text ${id}`,
    timestamp: '2024-01-01T00:00:00Z'
  });

  it('queues messages typed while offline and sends them in order after reconnect', () => {
    let s = reduce(initialState(), { type: 'connection/closed', state: 'offline' });
    s = run(s, send('a'), send('b'), send('c'));
    expect(dueMessages(s)).toEqual([]);
    expect(ids(s, 'c1')).toEqual(['a', 'b', 'c']);
    s = reduce(s, { type: 'connection/opened' });
    expect(dueMessages(s).map(e => e.id)).toEqual(['a', 'b', 'c']);
  });

  it('sends each message once per connection', () => {
    let s = run(connected(), send('a'));
    const due = dueMessages(s);
    expect(due.map(e => e.id)).toEqual(['a']);
    s = reduce(s, { type: 'outbox/sent', ids: ['a'], epoch: s.epoch });
    expect(dueMessages(s)).toEqual([]);
  });

  it('resends an unechoed message after a reconnect, and never an echoed one', () => {
    let s = run(connected(), send('a'), send('b'));
    s = reduce(s, { type: 'outbox/sent', ids: ['a', 'b'], epoch: s.epoch });
    s = reduce(s, echo(msg('a', '2024-01-01T00:00:01Z', { content: 'text a' })));
    s = run(s, { type: 'connection/closed', state: 'reconnecting' }, { type: 'connection/opened' });
    expect(dueMessages(s).map(e => e.id)).toEqual(['b']);
    s = reduce(s, { type: 'outbox/sent', ids: ['b'], epoch: s.epoch });
    // The server echoes the stored copy again for a resent id: still one message on screen.
    s = run(
      s,
      echo(msg('b', '2024-01-01T00:00:02Z', { content: 'text b' })),
      echo(msg('b', '2024-01-01T00:00:02Z', { content: 'text b' }))
    );
    expect(ids(s, 'c1')).toEqual(['a', 'b']);
    expect(s.outbox).toEqual([]);
    expect(dueMessages(s)).toEqual([]);
  });

  it('treats a reloaded page containing a queued message as its acknowledgement', () => {
    let s = run(connected(), send('a'));
    s = reduce(
      s,
      frame({
        type: 'messages',
        data: { chat_id: 'c1', messages: [msg('a', '2024-01-01T00:00:01Z')], has_more: false }
      })
    );
    expect(s.outbox).toEqual([]);
    expect(messagesOf(s, 'c1')[0].pending).toBe(false);
  });

  it('holds later messages of a new chat until the first one names the chat', () => {
    let s = run(
      reduce(initialState(), { type: 'connection/closed', state: 'offline' }),
      { type: 'chat/open', chatKey: 'draft:1' },
      send('first', 'draft:1'),
      send('second', 'draft:1'),
      { type: 'connection/opened' }
    );
    expect(dueMessages(s).map(e => e.id)).toEqual(['first']);
    s = reduce(s, { type: 'outbox/sent', ids: ['first'], epoch: s.epoch });
    expect(dueMessages(s)).toEqual([]);
    s = run(
      s,
      frame({ type: 'chat_created', data: chatEvent('real', { title: 'New chat' }) }),
      echo(msg('first', '2024-01-01T00:00:01Z', { chat_id: 'real' }), 'real')
    );
    expect(s.activeChat).toBe('real');
    expect(ids(s, 'real')).toEqual(['first', 'second']);
    // Opening the draft's old key lands in the real chat.
    expect(ids(s, 'draft:1')).toEqual(['first', 'second']);
    const due = dueMessages(s);
    expect(due.map(e => [e.id, e.chatKey])).toEqual([['second', 'real']]);
    expect(s.chats.map(c => c.id)).toEqual(['real']);
  });

  it('marks a refused message with the reason and lets Retry queue it again', () => {
    let s = run(connected(), send('a'));
    s = reduce(s, { type: 'outbox/sent', ids: ['a'], epoch: s.epoch });
    s = reduce(
      s,
      frame({ type: 'error', data: { code: 'rate_limited', message: 'Slow down', ref: 'a' } })
    );
    expect(s.outbox).toEqual([]);
    expect(messagesOf(s, 'c1')[0].error).toBe('Slow down');
    expect(s.lastError?.code).toBe('rate_limited');
    s = reduce(s, { type: 'retry', id: 'a' });
    expect(messagesOf(s, 'c1')[0].error).toBeUndefined();
    expect(dueMessages(s).map(e => e.id)).toEqual(['a']);
  });
});

describe('a new chat limited before its first question', () => {
  const physics = { folder: 'physics', document_ids: null };
  const ask = (id: string): Action => ({
    type: 'send',
    id,
    chatKey: 'draft:1',
    content: `text ${id}`,
    timestamp: '2024-01-01T00:00:00Z'
  });
  const limited = (): State =>
    run(
      connected(),
      { type: 'chat/open', chatKey: 'draft:1' },
      { type: 'draft/scoped', chatKey: 'draft:1', scope: physics }
    );
  const created = { ...chat('real', '2024-01-01T00:00:00Z'), scope: physics };

  it('keeps the scope of a new chat, and forgets it when set back to the whole library', () => {
    let s = limited();
    expect(s.draftScopes).toEqual({ 'draft:1': physics });
    s = reduce(s, { type: 'draft/scoped', chatKey: 'draft:1', scope: null });
    expect(s.draftScopes).toEqual({});
    s = reduce(s, {
      type: 'draft/scoped',
      chatKey: 'draft:1',
      scope: { folder: '', document_ids: null }
    });
    expect(s.draftScopes).toEqual({});
  });

  it('sends a whole-library new chat\'s first question at once, with no chat to create', () => {
    const s = run(limited(), { type: 'draft/scoped', chatKey: 'draft:1', scope: null }, ask('q'));
    expect(draftsToCreate(s)).toEqual([]);
    expect(dueMessages(s).map(e => [e.id, e.chatKey])).toEqual([['q', 'draft:1']]);
  });

  it('holds its questions until its chat is created, then sends them all to that chat', () => {
    let s = run(limited(), ask('first'), ask('second'));
    expect(dueMessages(s)).toEqual([]);
    expect(draftsToCreate(s).map(e => e.id)).toEqual(['first']);
    expect(ids(s, 'draft:1')).toEqual(['first', 'second']);
    s = reduce(s, { type: 'draft/created', chatKey: 'draft:1', chat: created });
    expect(s.activeChat).toBe('real');
    expect(s.chats).toEqual([created]);
    expect(s.draftScopes).toEqual({});
    expect(draftsToCreate(s)).toEqual([]);
    expect(ids(s, 'real')).toEqual(['first', 'second']);
    expect(ids(s, 'draft:1')).toEqual(['first', 'second']);
    expect(dueMessages(s).map(e => [e.id, e.chatKey])).toEqual([
      ['first', 'real'],
      ['second', 'real']
    ]);
  });

  it('creates nothing while offline', () => {
    const s = run(limited(), ask('q'), { type: 'connection/closed', state: 'offline' });
    expect(draftsToCreate(s)).toEqual([]);
  });

  it('keeps the created chat when a chat list asked for before it comes back', () => {
    let s = run(limited(), ask('q'));
    const since = s.seq;
    s = run(
      s,
      { type: 'draft/created', chatKey: 'draft:1', chat: created },
      { type: 'chats/loaded', chats: [], since }
    );
    expect(s.chats.map(c => c.id)).toEqual(['real']);
    expect(s.activeChat).toBe('real');
    expect(dueMessages(s).map(e => e.id)).toEqual(['q']);
  });

  it('marks its questions with the reason when the chat cannot be created; Retry asks again', () => {
    let s = run(limited(), ask('first'), ask('second'), {
      type: 'draft/failed',
      chatKey: 'draft:1',
      reason: 'The server cannot be reached'
    });
    expect(s.outbox).toEqual([]);
    expect(draftsToCreate(s)).toEqual([]);
    expect(messagesOf(s, 'draft:1').map(m => m.error)).toEqual([
      'The server cannot be reached',
      'The server cannot be reached'
    ]);
    expect(s.draftScopes).toEqual({ 'draft:1': physics });
    s = reduce(s, { type: 'retry', id: 'first' });
    expect(messagesOf(s, 'draft:1')[0].error).toBeUndefined();
    expect(draftsToCreate(s).map(e => e.id)).toEqual(['first']);
  });
});

describe('typing, chats and library', () => {
  it('tracks typing per chat and forgets it when the connection drops', () => {
    let s = run(
      connected(),
      frame({
        type: 'typing',
        data: { user_id: 'assistant', role: 'assistant', chat_id: 'c1', is_typing: true }
      })
    );
    expect(typingIn(s, 'c1')).toEqual(['assistant']);
    expect(typingIn(s, 'c2')).toEqual([]);
    s = reduce(s, { type: 'connection/closed', state: 'reconnecting' });
    expect(typingIn(s, 'c1')).toEqual([]);
    expect(s.connection).toBe('reconnecting');
  });

  it('stops showing the assistant typing once its reply is complete', () => {
    const s = run(
      connected(),
      frame({
        type: 'typing',
        data: { user_id: 'assistant', role: 'assistant', chat_id: 'c1', is_typing: true }
      }),
      echo(msg('r', '2024-01-01T00:00:01Z', { role: 'assistant', status: 'complete' }))
    );
    expect(typingIn(s, 'c1')).toEqual([]);
  });

  it('keeps the chat list live with chat_created, chat_updated and chat_deleted', () => {
    let s = run(
      connected(),
      { type: 'chats/loaded', chats: [chat('a', '2024-01-01T00:00:00Z')] },
      frame({
        type: 'chat_created',
        data: chatEvent('b', { title: 'B', updated_at: '2024-01-02T00:00:00Z' })
      }),
      frame({ type: 'chat_updated', data: chatEvent('a', { title: 'Renamed' }) })
    );
    expect(s.chats.map(c => [c.id, c.title])).toEqual([
      ['b', 'B'],
      ['a', 'Renamed']
    ]);
    s = run(s, { type: 'chat/open', chatKey: 'b' }, frame({ type: 'chat_deleted', data: { chat_id: 'b' } }));
    expect(s.chats.map(c => c.id)).toEqual(['a']);
    expect(s.activeChat).toBeNull();
  });

  it('follows a chat scope through chat_updated, and clears it on scope: null', () => {
    const physics = { folder: 'physics', document_ids: null };
    let s = run(
      connected(),
      { type: 'chats/loaded', chats: [chat('a', '2024-01-01T00:00:00Z')] },
      frame({ type: 'chat_updated', data: chatEvent('a', { scope: physics }) })
    );
    expect(s.chats[0].scope).toEqual(physics);
    // A frame without a scope (a title change from an older server) leaves it as it is.
    s = run(s, sparseFrame({ type: 'chat_updated', data: { chat_id: 'a', title: 'Renamed' } }));
    expect(s.chats[0]).toMatchObject({ title: 'Renamed', scope: physics });
    s = run(s, sparseFrame({ type: 'chat_updated', data: { chat_id: 'a', scope: null } }));
    expect(s.chats[0].scope).toBeNull();
    expect(s.chats[0].title).toBe('Renamed');
  });

  it('takes the scope a PATCH answers with, and the scope of chat_created', () => {
    const scoped = { ...chat('a', '2024-01-01T00:00:00Z'), scope: { document_ids: ['d1'] } };
    let s = run(
      connected(),
      { type: 'chats/loaded', chats: [chat('a', '2024-01-01T00:00:00Z')] },
      { type: 'chat/upserted', chat: scoped }
    );
    expect(s.chats[0].scope).toEqual({ document_ids: ['d1'] });
    s = run(s, { type: 'chat/upserted', chat: { ...scoped, scope: null } });
    expect(s.chats[0].scope).toBeNull();
    s = run(
      s,
      frame({
        type: 'chat_created',
        data: chatEvent('b', { title: 'B', scope: { folder: 'history', document_ids: null } })
      })
    );
    expect(s.chats.find(c => c.id === 'b')?.scope).toEqual({
      folder: 'history',
      document_ids: null
    });
  });

  it('drops a chat a reloaded list no longer has, but not one created after the request', () => {
    let s = run(connected(), {
      type: 'chats/loaded',
      chats: [chat('gone', '2024-01-01T00:00:00Z'), chat('kept', '2024-01-01T00:00:00Z')]
    });
    s = run(s, { type: 'chat/open', chatKey: 'gone' }, echo(msg('m', '2024-01-01T00:00:01Z', { chat_id: 'gone' }), 'gone'));
    const since = s.seq;
    // While the list is on its way, a message typed offline creates a chat.
    s = run(
      s,
      frame({ type: 'chat_created', data: chatEvent('fresh', { title: 'Fresh' }) }),
      echo(msg('f', '2024-01-01T00:00:02Z', { chat_id: 'fresh' }), 'fresh')
    );
    s = reduce(s, { type: 'chats/loaded', chats: [chat('kept', '2024-01-01T00:00:00Z')], since });
    expect(s.chats.map(c => c.id).sort()).toEqual(['fresh', 'kept']);
    expect(ids(s, 'fresh')).toEqual(['f']);
    expect(messagesOf(s, 'gone')).toEqual([]);
    expect(s.activeChat).toBeNull();
  });

  it('shows ingestion progress from library frames until the document is ready', () => {
    const doc = documentRecord('d1', { progress: 0.4 });
    let s = reduce(
      connected(),
      frame({ type: 'library', data: { event: 'updated', document: doc } })
    );
    expect(s.progress.d1).toBeCloseTo(0.4);
    s = reduce(
      s,
      frame({
        type: 'library',
        data: { event: 'updated', document: { ...doc, status: 'ready', progress: 1 } }
      })
    );
    expect(s.progress.d1).toBeUndefined();
    expect(s.documents[0].status).toBe('ready');
  });
});

describe('protocol extensions', () => {
  const doc = documentRecord('d2', {
    path: 'b.md',
    filename: 'b.md',
    kind: 'markdown',
    progress: 0.25
  });

  it('applies message_delta frames at their offset', () => {
    const s = run(
      connected(),
      echo(msg('r', '2024-01-01T00:00:01Z', { role: 'assistant', content: 'Hello', status: 'streaming' })),
      frame({ type: 'message_delta', data: { chat_id: 'c1', message_id: 'r', offset: 5, text: ' world' } }),
      frame({ type: 'message_delta', data: { chat_id: 'c1', message_id: 'r', offset: 6, text: 'there' } })
    );
    expect(messagesOf(s, 'c1')[0].content).toBe('Hello there');
  });

  it('ignores a delta it has no base for', () => {
    const s = reduce(
      connected(),
      frame({ type: 'message_delta', data: { chat_id: 'c1', message_id: 'r', offset: 3, text: 'x' } })
    );
    expect(messagesOf(s, 'c1')).toEqual([]);
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

describe('protocol', () => {
  it('parses known frames and ignores anything else', () => {
    expect(parseServerFrame('{"type":"auth_ok","data":{"user_id":"u"}}')?.type).toBe('auth_ok');
    expect(parseServerFrame('not json')).toBeNull();
    expect(parseServerFrame('{"type":"launch_missiles","data":{}}')).toBeNull();
    expect(parseServerFrame('{"type":"message"}')).toBeNull();
  });

  it('recognizes the open_citation comm message', () => {
    expect(isOpenCitationCommMessage({ action: 'open_citation', path: 'a.pdf', page: 3, anchor: null })).toBe(true);
    expect(isOpenCitationCommMessage({ action: 'run', path: 'a.pdf' })).toBe(false);
  });
});
