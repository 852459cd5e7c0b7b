/** Who answers: the assistant info the panel keeps, and the frames after which it asks again. */
import { endsReplyInError, initialState, reduce } from '../../reducer';
import { connected, msg } from './fixtures';

const fake = { name: 'openai', model: 'fake', ready: true, detail: 'fake answers.' };

describe('the assistant info', () => {
  it('is unknown until the server says, then the newest answer is kept', () => {
    expect(initialState().assistant).toBeNull();
    let s = reduce(connected(), { type: 'assistant/loaded', info: fake });
    expect(s.assistant).toEqual(fake);
    const down = { ...fake, ready: false, detail: 'The model server could not be reached.' };
    s = reduce(s, { type: 'assistant/loaded', info: down });
    expect(s.assistant).toEqual(down);
  });

  it('outlives a lost connection: who answers does not change with it', () => {
    let s = reduce(connected(), { type: 'assistant/loaded', info: fake });
    s = reduce(s, { type: 'connection/closed', state: 'reconnecting' });
    expect(s.assistant).toEqual(fake);
  });
});

describe('a reply that ends in error', () => {
  const reply = msg('a1', '2024-01-01T00:00:01Z', { role: 'assistant', status: 'error' });
  const event = (m: typeof reply) => ({ message: m, user_id: 'assistant', chat_id: 'c1' });

  it('is told by its final message or its last delta', () => {
    expect(endsReplyInError({ type: 'message', data: event(reply) })).toBe(true);
    const delta = { chat_id: 'c1', message_id: 'a1', offset: 0, text: '', status: 'error' as const };
    expect(endsReplyInError({ type: 'message_delta', data: delta })).toBe(true);
  });

  it('is not a reply that completes, streams, or a user message marked failed', () => {
    const complete = { ...reply, status: 'complete' as const };
    expect(endsReplyInError({ type: 'message', data: event(complete) })).toBe(false);
    const streaming = { chat_id: 'c1', message_id: 'a1', offset: 0, text: 'x' };
    expect(endsReplyInError({ type: 'message_delta', data: streaming })).toBe(false);
    const user = { ...reply, role: 'user' as const };
    expect(endsReplyInError({ type: 'message', data: event(user) })).toBe(false);
  });
});
