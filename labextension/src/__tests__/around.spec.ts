/**
 * The model around the conversation: `read` debounced until the newest message has stayed
 * on screen in a visible panel, reactions and ratings as frames, and paging back to a
 * message chosen in the search.
 */
import type { Chat, ClientFrame, Message } from '../protocol';
import { connectedModel } from './connected';

const at = (n: number) => `2024-01-01T00:00:${String(n).padStart(2, '0')}Z`;

function message(id: string, n: number, extra: Partial<Message> = {}): Message {
  return {
    id,
    role: 'user',
    content: id,
    citations: [],
    timestamp: at(n),
    chat_id: 'c1',
    status: 'complete',
    ...extra
  };
}

const chat: Chat = {
  id: 'c1',
  title: 'Optics',
  created_at: at(0),
  updated_at: at(2),
  message_count: 2,
  scope: null,
  unread: 1,
  read_up_to: 'q1'
};

/** A model with chat c1 open, holding a question and its answer; frames sent are recorded. */
function openChat() {
  const { model, frames, notices } = connectedModel({});
  model.dispatch({ type: 'chats/loaded', chats: [chat] });
  model.openChat('c1');
  model.dispatch({
    type: 'frame',
    frame: {
      type: 'messages',
      data: {
        chat_id: 'c1',
        messages: [message('q1', 1), message('a1', 2, { role: 'assistant' })],
        has_more: false
      }
    }
  });
  const reads = () => frames.filter(f => f.type === 'read').map(f => f.data);
  return { model, frames, notices, reads };
}

describe('read', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('is sent once the newest message has been on screen a second in a visible panel', () => {
    const { model, reads } = openChat();
    model.setVisible(true);
    model.seen('c1', 'a1');
    jest.advanceTimersByTime(900);
    expect(reads()).toEqual([]);
    jest.advanceTimersByTime(200);
    expect(reads()).toEqual([{ chat_id: 'c1', message_id: 'a1' }]);
    // Not again for the same message, however often the view reports it.
    model.seen('c1', null);
    model.seen('c1', 'a1');
    jest.advanceTimersByTime(5000);
    expect(reads()).toHaveLength(1);
  });

  it('is not sent while the panel is hidden, and waits its second again once shown', () => {
    const { model, reads } = openChat();
    model.seen('c1', 'a1');
    jest.advanceTimersByTime(5000);
    expect(reads()).toEqual([]);
    model.setVisible(true);
    jest.advanceTimersByTime(500);
    model.setVisible(false); // hidden before the second is up
    jest.advanceTimersByTime(5000);
    expect(reads()).toEqual([]);
    model.setVisible(true);
    jest.advanceTimersByTime(1000);
    expect(reads()).toEqual([{ chat_id: 'c1', message_id: 'a1' }]);
  });

  it('is not sent for a chat already read up to its newest message', () => {
    const { model, reads } = openChat();
    model.dispatch({ type: 'chat/upserted', chat: { ...chat, unread: 0, read_up_to: 'a1' } });
    model.setVisible(true);
    model.seen('c1', 'a1');
    jest.advanceTimersByTime(5000);
    expect(reads()).toEqual([]);
  });

  it('is sent again when a reply finishes while the chat is on screen', () => {
    const { model, reads } = openChat();
    model.setVisible(true);
    model.seen('c1', 'a1');
    jest.advanceTimersByTime(1000);
    const reply = (status: Message['status'], content: string): void =>
      model.dispatch({
        type: 'frame',
        frame: {
          type: 'message',
          data: {
            message: message('a2', 4, { role: 'assistant', status, content }),
            user_id: 'me',
            chat_id: 'c1'
          }
        }
      });
    model.dispatch({
      type: 'frame',
      frame: { type: 'message', data: { message: message('q2', 3), user_id: 'me', chat_id: 'c1' } }
    });
    reply('streaming', 'Part');
    // While it streams the view still shows the settled one; nothing new is read.
    jest.advanceTimersByTime(3000);
    reply('complete', 'Part and whole.');
    model.seen('c1', 'a2');
    jest.advanceTimersByTime(1000);
    expect(reads().map(r => r.message_id)).toEqual(['a1', 'a2']);
  });
});

describe('reactions and ratings', () => {
  afterEach(() => jest.restoreAllMocks());

  it('go to the server as react and feedback frames; the state waits for its answer', () => {
    const { model, frames } = openChat();
    model.react('c1', 'a1', '🎉', true);
    model.react('c1', 'a1', '🎉', false);
    model.rate('c1', 'a1', 'down');
    model.rate('c1', 'a1', 'down', 'Wrong page.');
    model.rate('c1', 'a1', null);
    const sent = frames.filter(f => f.type === 'react' || f.type === 'feedback');
    expect(sent).toEqual<ClientFrame[]>([
      { type: 'react', data: { chat_id: 'c1', message_id: 'a1', emoji: '🎉', on: true } },
      { type: 'react', data: { chat_id: 'c1', message_id: 'a1', emoji: '🎉', on: false } },
      { type: 'feedback', data: { chat_id: 'c1', message_id: 'a1', rating: 'down' } },
      {
        type: 'feedback',
        data: { chat_id: 'c1', message_id: 'a1', rating: 'down', note: 'Wrong page.' }
      },
      { type: 'feedback', data: { chat_id: 'c1', message_id: 'a1', rating: null } }
    ]);
    expect(model.state.messages.c1.find(m => m.id === 'a1')?.reactions).toBeUndefined();
  });
});

describe('opening a chat at a message from the search', () => {
  afterEach(() => jest.restoreAllMocks());

  it('pages back with before until the message is there, then lets the view show it', () => {
    const { model, frames } = connectedModel({});
    model.dispatch({ type: 'chats/loaded', chats: [{ ...chat, id: 'c2' }] });
    model.openMessage('c2', 'm1');
    const loads = () => frames.filter(f => f.type === 'load_messages').map(f => f.data);
    expect(model.state.activeChat).toBe('c2');
    expect(loads()).toEqual([{ chat_id: 'c2' }]);
    // The model reacts to frames through its connection; call its handler as that would.
    const onFrame = (messages: Message[], hasMore: boolean) =>
      model['_onFrame']({ type: 'messages', data: { chat_id: 'c2', messages, has_more: hasMore } });
    onFrame([message('m8', 8, { chat_id: 'c2' }), message('m9', 9, { chat_id: 'c2' })], true);
    expect(loads()[1]).toEqual({ chat_id: 'c2', before: 'm8', limit: 100 });
    onFrame([message('m5', 5, { chat_id: 'c2' })], true);
    expect(loads()[2]).toEqual({ chat_id: 'c2', before: 'm5', limit: 100 });
    onFrame([message('m1', 1, { chat_id: 'c2' })], true);
    expect(loads()).toHaveLength(3);
    expect(model.state.focus).toEqual({ chatId: 'c2', messageId: 'm1' });
    model.focusShown();
    expect(model.state.focus).toBeNull();
  });

  it('says so when the message is no longer in the chat', () => {
    const { model, notices } = connectedModel({});
    model.dispatch({ type: 'chats/loaded', chats: [chat] });
    model.openMessage('c1', 'gone');
    model['_onFrame']({
      type: 'messages',
      data: { chat_id: 'c1', messages: [message('q1', 1)], has_more: false }
    });
    expect(model.state.focus).toBeNull();
    expect(notices).toEqual(['That message is no longer in the chat.']);
  });
});
