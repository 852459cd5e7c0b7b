/** The offline queue: sent once per connection, resent until echoed, refused with a reason. */
import { type Action, dueMessages, initialState, messagesOf, reduce } from '../../reducer';
import { chatEvent, connected, echo, frame, ids, msg, run } from './fixtures';

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
