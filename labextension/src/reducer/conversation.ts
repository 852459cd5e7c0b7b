/**
 * What the server says was said in a chat: each message it stores or streams (`message`) and
 * pages of its history (`messages`, or REST). The echo of a queued message is its
 * acknowledgement, and names the chat of a draft.
 */
import type { Message, MessageEventData } from '../protocol';
import { bumpChat } from './chats';
import { resolveDraft } from './drafts';
import { timeOf, upsertInto } from './messages';
import type { State } from './state';
import { isDraft } from './state';
import { setTyping } from './typing';

/** Fold one confirmed (server-side) message into the state. */
export function confirmMessage(state: State, message: Message, chatId: string): State {
  let next = state;
  const queued = next.outbox.find(e => e.id === message.id);
  if (queued) {
    if (isDraft(queued.chatKey)) {
      next = resolveDraft(next, queued.chatKey, chatId);
    }
    // The echo is the acknowledgement: the queued copy is done.
    next = { ...next, outbox: next.outbox.filter(e => e.id !== message.id) };
  }
  const { list, usedSeq } = upsertInto(
    next.messages[chatId],
    { ...message, chat_id: chatId },
    next.seq,
    false
  );
  next = {
    ...next,
    messages: { ...next.messages, [chatId]: list },
    seq: usedSeq ? next.seq + 1 : next.seq
  };
  if (message.role === 'assistant' && message.status && message.status !== 'streaming') {
    next = setTyping(next, chatId, 'assistant', false);
  }
  return bumpChat(next, chatId, message.timestamp);
}

/** Merge a page of messages (oldest first), from `load_messages` or REST. */
export function mergePage(
  state: State,
  chatId: string,
  page: Message[],
  hasMore: boolean
): State {
  const before = state.messages[chatId]?.filter(m => !m.pending) ?? [];
  const oldestBefore = before.length ? timeOf(before[0]) : Infinity;
  let next = state;
  for (const message of page) {
    next = confirmMessage(next, message, chatId);
  }
  // `has_more` speaks about what is older than this page: it only replaces what we knew
  // when the page reaches at least as far back as what we already held.
  const pageOldest = page.length ? Date.parse(page[0].timestamp) : -Infinity;
  const known = next.hasMore[chatId];
  const more = known === undefined || pageOldest <= oldestBefore ? hasMore : known;
  return { ...next, hasMore: { ...next.hasMore, [chatId]: more } };
}

/** A `message` frame: a message the server stored, or a reply as it streams. */
export function applyMessage(state: State, data: MessageEventData): State {
  const chatId = data.chat_id ?? data.message.chat_id;
  if (!chatId) {
    return state;
  }
  return confirmMessage(state, data.message, chatId);
}
