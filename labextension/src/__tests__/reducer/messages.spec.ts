/** Messages: one per id however often it streams, in server order, merged page by page. */
import type { Message } from '../../protocol';
import { type Action, isStreaming, messagesOf, reduce } from '../../reducer';
import { connected, echo, frame, ids, msg, run, sparseFrame } from './fixtures';

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

describe('message_delta', () => {
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
});
