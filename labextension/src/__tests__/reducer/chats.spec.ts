/** The chat list: newest first, live through chat frames, reloaded without losing new chats. */
import { messagesOf, reduce } from '../../reducer';
import { chat, chatEvent, connected, echo, frame, ids, msg, run, sparseFrame } from './fixtures';

describe('the chat list', () => {
  it('lists chats newest first and moves a chat up when a message arrives in it', () => {
    let s = run(connected(), {
      type: 'chats/loaded',
      chats: [chat('old', '2024-01-01T00:00:00Z'), chat('new', '2024-01-02T00:00:00Z')]
    });
    expect(s.chats.map(c => c.id)).toEqual(['new', 'old']);
    s = reduce(s, echo(msg('m', '2024-01-03T00:00:00Z', { chat_id: 'old' }), 'old'));
    expect(s.chats.map(c => c.id)).toEqual(['old', 'new']);
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
});
