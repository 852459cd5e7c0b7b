/** Who is typing, per chat, for as long as the connection and the reply last. */
import { reduce, typingIn } from '../../reducer';
import { connected, echo, frame, msg, run } from './fixtures';

describe('typing', () => {
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
});
