/** New chats before the server has created them, limited to part of the library or not. */
import {
  type Action,
  draftsToCreate,
  dueMessages,
  messagesOf,
  reduce,
  type State
} from '../../reducer';
import { chat, connected, ids, run } from './fixtures';

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
