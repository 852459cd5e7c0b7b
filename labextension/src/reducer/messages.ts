/**
 * The messages of a chat: their display order, upsert by id (a streamed reply is one message
 * whose content grows), `message_delta` frames, and what the views read of them.
 */
import type { MessageDeltaData } from '../protocol';
import type { LocalMessage, MessageFields, State } from './state';

/** A message's timestamp in milliseconds (0 if unreadable). */
export function timeOf(m: LocalMessage): number {
  const t = Date.parse(m.timestamp);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * Display order: server messages by canonical timestamp, then arrival; messages the server
 * has not acknowledged yet go last, in the order they were typed (their clock is the
 * browser's, which need not agree with the server's).
 */
export function compareMessages(a: LocalMessage, b: LocalMessage): number {
  if (!!a.pending !== !!b.pending) {
    return a.pending ? 1 : -1;
  }
  if (!a.pending) {
    const dt = timeOf(a) - timeOf(b);
    if (dt !== 0) {
      return dt;
    }
  }
  return a.seq - b.seq;
}

/**
 * Insert or merge `incoming` into `list` by id (a streamed reply arrives as repeated frames
 * with one id and growing content) and keep the list ordered.
 */
export function upsertInto(
  list: LocalMessage[] | undefined,
  incoming: MessageFields,
  seq: number,
  pending: boolean
): { list: LocalMessage[]; usedSeq: boolean } {
  const current = list ?? [];
  const index = current.findIndex(m => m.id === incoming.id);
  let next: LocalMessage[];
  let usedSeq = false;
  if (index >= 0) {
    const merged: LocalMessage = { ...current[index], ...incoming, pending };
    if (!pending) {
      delete merged.error;
    }
    next = [...current];
    next[index] = merged;
  } else {
    next = [...current, { ...incoming, seq, pending }];
    usedSeq = true;
  }
  next.sort(compareMessages);
  return { list: next, usedSeq };
}

/** `content = content[:offset] + text` on the message it names, if that message is here. */
export function applyDelta(state: State, delta: MessageDeltaData): State {
  const { chat_id, message_id, offset, text } = delta;
  const list = state.messages[chat_id];
  const index = list ? list.findIndex(m => m.id === message_id) : -1;
  if (!list || index < 0 || offset > list[index].content.length) {
    // No base to apply it to: the whole message frame that follows is authoritative.
    return state;
  }
  const updated = [...list];
  const m = list[index];
  updated[index] = { ...m, content: m.content.slice(0, offset) + text };
  return { ...state, messages: { ...state.messages, [chat_id]: updated } };
}

export function messagesOf(state: State, chatKey: string | null): LocalMessage[] {
  if (chatKey === null) {
    return [];
  }
  return state.messages[state.drafts[chatKey] ?? chatKey] ?? [];
}

/** Whether the assistant is replying in that chat (Stop is offered then). */
export function isStreaming(state: State, chatKey: string | null): boolean {
  return messagesOf(state, chatKey).some(
    m => m.role === 'assistant' && m.status === 'streaming'
  );
}
