/** A message to bring into view: found, or older pages to ask for until it is. */
import { focusStep, reduce } from '../../reducer';
import { connected, echo, frame, msg, run } from './fixtures';

const at = (n: number) => `2024-01-01T00:00:${String(n).padStart(2, '0')}Z`;

describe('the way to a message chosen in the search', () => {
  it('waits for the first page of a chat not loaded yet', () => {
    expect(focusStep(connected(), 'c1', 'old')).toEqual({ step: 'waiting' });
  });

  it('asks for the page before the oldest message held while there are more', () => {
    const s = run(
      connected(),
      frame({
        type: 'messages',
        data: { chat_id: 'c1', messages: [msg('m5', at(5)), msg('m6', at(6))], has_more: true }
      })
    );
    expect(focusStep(s, 'c1', 'm1')).toEqual({ step: 'older', before: 'm5' });
  });

  it('has found it once the page that holds it is merged', () => {
    const s = run(
      connected(),
      frame({
        type: 'messages',
        data: { chat_id: 'c1', messages: [msg('m5', at(5))], has_more: true }
      }),
      frame({
        type: 'messages',
        data: { chat_id: 'c1', messages: [msg('m1', at(1)), msg('m2', at(2))], has_more: false }
      })
    );
    expect(focusStep(s, 'c1', 'm1')).toEqual({ step: 'found' });
  });

  it('is missing when the whole history is loaded without it', () => {
    const s = run(
      connected(),
      frame({
        type: 'messages',
        data: { chat_id: 'c1', messages: [msg('m1', at(1))], has_more: false }
      })
    );
    expect(focusStep(s, 'c1', 'deleted')).toEqual({ step: 'missing' });
  });

  it('is set and cleared in the state', () => {
    let s = run(connected(), echo(msg('m1', at(1))));
    s = reduce(s, { type: 'focus/set', chatId: 'c1', messageId: 'm1' });
    expect(s.focus).toEqual({ chatId: 'c1', messageId: 'm1' });
    s = reduce(s, { type: 'focus/cleared' });
    expect(s.focus).toBeNull();
    expect(reduce(s, { type: 'focus/cleared' })).toBe(s);
  });
});
