/** Unread replies per chat, and when the panel says it has read a chat. */
import type { Chat } from '../../protocol';
import { messagesOf, newestSettled, readToSend, unreadBadge } from '../../reducer';
import type { LocalMessage } from '../../reducer';
import { chat, chatEvent, connected, echo, frame, msg, run } from './fixtures';

const at = (n: number) => `2024-01-01T00:00:0${n}Z`;

function conversation(): LocalMessage[] {
  const s = run(
    connected(),
    echo(msg('q1', at(1))),
    echo(msg('a1', at(2), { role: 'assistant' })),
    echo(msg('q2', at(3))),
    echo(msg('a2', at(4), { role: 'assistant' }))
  );
  return messagesOf(s, 'c1');
}

function chatWith(changes: Partial<Chat>): Chat {
  return { ...chat('c1', at(4)), ...changes };
}

describe('the unread badge', () => {
  it('shows the number of unread replies, nothing for none, 99+ for very many', () => {
    expect(unreadBadge(0)).toBe('');
    expect(unreadBadge(undefined)).toBe('');
    expect(unreadBadge(1)).toBe('1');
    expect(unreadBadge(99)).toBe('99');
    expect(unreadBadge(100)).toBe('99+');
  });

  it('follows the chat list and chat_updated frames', () => {
    let s = run(connected(), { type: 'chats/loaded', chats: [chatWith({ unread: 2 })] });
    expect(unreadBadge(s.chats[0].unread)).toBe('2');
    s = run(
      s,
      frame({ type: 'chat_updated', data: chatEvent('c1', { unread: 0, read_up_to: 'a2' }) })
    );
    expect(s.chats[0].unread).toBe(0);
    expect(s.chats[0].read_up_to).toBe('a2');
  });

  it('of a chat created elsewhere starts from what chat_created says', () => {
    const s = run(
      connected(),
      frame({ type: 'chat_created', data: chatEvent('c2', { unread: 1 }) })
    );
    expect(s.chats[0].unread).toBe(1);
  });
});

describe('the newest settled message', () => {
  it('is not a reply still streaming, nor a message only queued here', () => {
    const list = conversation();
    expect(newestSettled(list)?.id).toBe('a2');
    const streaming = [...list, { ...list[3], id: 'a3', status: 'streaming' as const, seq: 9 }];
    expect(newestSettled(streaming)?.id).toBe('a2');
    const queued = [...list, { ...list[2], id: 'q3', pending: true, seq: 10 }];
    expect(newestSettled(queued)?.id).toBe('a2');
    expect(newestSettled([])).toBeNull();
  });
});

describe('whether to send read', () => {
  const messages = conversation();
  const unread = chatWith({ unread: 1, read_up_to: 'a1' });

  it('sends it for the newest message once it is on screen while the panel is visible', () => {
    expect(readToSend({ chat: unread, messages, seen: 'a2', visible: true })).toBe('a2');
  });

  it('waits while the panel or the tab is hidden, or the newest is not on screen', () => {
    expect(readToSend({ chat: unread, messages, seen: 'a2', visible: false })).toBeNull();
    expect(readToSend({ chat: unread, messages, seen: null, visible: true })).toBeNull();
    expect(readToSend({ chat: unread, messages, seen: 'a1', visible: true })).toBeNull();
  });

  it('does not send it for a message already read, or past one read', () => {
    const read = chatWith({ unread: 0, read_up_to: 'a2' });
    expect(readToSend({ chat: read, messages, seen: 'a2', visible: true })).toBeNull();
    const further = [...messages.slice(0, 3)];
    expect(readToSend({ chat: read, messages: further, seen: 'q2', visible: true })).toBeNull();
  });

  it('does not send it twice for the same message before the server answers', () => {
    expect(
      readToSend({ chat: unread, messages, seen: 'a2', visible: true, sent: 'a2' })
    ).toBeNull();
  });

  it('sends it when what was read is older than the messages loaded', () => {
    const old = chatWith({ unread: 3, read_up_to: 'long-ago' });
    expect(readToSend({ chat: old, messages, seen: 'a2', visible: true })).toBe('a2');
  });

  it('does not send it for the user’s own message while nothing is unread', () => {
    const own = messages.slice(0, 3);
    const none = chatWith({ unread: 0, read_up_to: 'a1' });
    expect(readToSend({ chat: none, messages: own, seen: 'q2', visible: true })).toBeNull();
  });

  it('does not send it for a chat the server has not listed (a draft)', () => {
    expect(readToSend({ chat: undefined, messages, seen: 'a2', visible: true })).toBeNull();
  });
});
