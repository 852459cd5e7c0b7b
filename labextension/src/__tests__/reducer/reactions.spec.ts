/** Reactions and feedback: applied from the server's frames, kept over live message frames. */
import type { Message } from '../../protocol';
import { messagesOf } from '../../reducer';
import { connected, echo, frame, msg, run } from './fixtures';

const T = '2024-01-01T00:00:01Z';
const answer = (extra: Partial<Message> = {}) =>
  msg('a1', T, { role: 'assistant', content: 'The answer.', ...extra });
const held = (s: ReturnType<typeof connected>) => messagesOf(s, 'c1').find(m => m.id === 'a1')!;

describe('reactions', () => {
  it('are set on the message from a reaction frame: all of them, as they now stand', () => {
    let s = run(connected(), echo(answer({ reactions: { '👍': ['ann'] } })));
    s = run(
      s,
      frame({
        type: 'reaction',
        data: { chat_id: 'c1', message_id: 'a1', reactions: { '🎉': ['me'] } }
      })
    );
    expect(held(s).reactions).toEqual({ '🎉': ['me'] });
  });

  it('are kept when a live message frame without them updates the message', () => {
    const s = run(
      connected(),
      echo(answer({ status: 'streaming', content: '' })),
      frame({
        type: 'reaction',
        data: { chat_id: 'c1', message_id: 'a1', reactions: { '💡': ['me'] } }
      }),
      frame({
        type: 'feedback',
        data: { chat_id: 'c1', message_id: 'a1', feedback: { rating: 'up', note: null } }
      }),
      // The reply's last frame, live: no `reactions`, no `feedback`.
      echo(answer({ status: 'complete', content: 'The whole answer.' }))
    );
    expect(held(s).content).toBe('The whole answer.');
    expect(held(s).reactions).toEqual({ '💡': ['me'] });
    expect(held(s).feedback).toEqual({ rating: 'up', note: null });
  });

  it('come with a page of history, which replaces what was held', () => {
    const s = run(
      connected(),
      echo(answer({ reactions: { '👍': ['me'] } })),
      frame({
        type: 'messages',
        data: {
          chat_id: 'c1',
          messages: [answer({ reactions: {}, feedback: { rating: 'down', note: 'Vague.' } })],
          has_more: false
        }
      })
    );
    expect(held(s).reactions).toEqual({});
    expect(held(s).feedback).toEqual({ rating: 'down', note: 'Vague.' });
  });

  it('of a message not loaded here change nothing', () => {
    const before = run(connected(), echo(answer()));
    const after = run(
      before,
      frame({
        type: 'reaction',
        data: { chat_id: 'c1', message_id: 'elsewhere', reactions: { '👀': ['me'] } }
      }),
      frame({
        type: 'feedback',
        data: { chat_id: 'c9', message_id: 'a1', feedback: { rating: 'up', note: null } }
      })
    );
    expect(after.messages).toEqual(before.messages);
  });
});

describe('feedback', () => {
  it('is the user’s rating with its note, and null once taken back', () => {
    let s = run(
      connected(),
      echo(answer()),
      frame({
        type: 'feedback',
        data: {
          chat_id: 'c1',
          message_id: 'a1',
          feedback: { rating: 'down', note: 'Wrong page.' }
        }
      })
    );
    expect(held(s).feedback).toEqual({ rating: 'down', note: 'Wrong page.' });
    s = run(
      s,
      frame({ type: 'feedback', data: { chat_id: 'c1', message_id: 'a1', feedback: null } })
    );
    expect(held(s).feedback).toBeNull();
  });
});
