/**
 * The connection and the offline queue: what the user typed goes into the outbox at once, and
 * leaves it when the server echoes it (stored) or refuses it; every connection resends what
 * is still there.
 */
import { upsertInto } from './messages';
import type { Action, MessageFields, OutboxEntry, State } from './state';
import { isDraft } from './state';

export type OutboxAction = Extract<
  Action,
  | { type: 'connection/opened' }
  | { type: 'connection/closed' }
  | { type: 'send' }
  | { type: 'outbox/sent' }
  | { type: 'retry' }
>;

export function reduceOutbox(state: State, action: OutboxAction): State {
  switch (action.type) {
    case 'connection/opened':
      return { ...state, connection: 'connected', epoch: state.epoch + 1 };
    case 'connection/closed':
      // Nobody can be seen typing through a closed connection.
      return { ...state, connection: action.state, typing: {} };
    case 'send': {
      const chatKey = state.drafts[action.chatKey] ?? action.chatKey;
      const local: MessageFields = {
        id: action.id,
        role: 'user',
        content: action.content,
        timestamp: action.timestamp,
        ...(isDraft(chatKey) ? {} : { chat_id: chatKey })
      };
      const { list } = upsertInto(state.messages[chatKey], local, state.seq, true);
      return {
        ...state,
        messages: { ...state.messages, [chatKey]: list },
        outbox: [
          ...state.outbox,
          { id: action.id, chatKey, content: action.content, sentEpoch: null }
        ],
        seq: state.seq + 1
      };
    }
    case 'outbox/sent': {
      const ids = new Set(action.ids);
      return {
        ...state,
        outbox: state.outbox.map(e => (ids.has(e.id) ? { ...e, sentEpoch: action.epoch } : e))
      };
    }
    case 'retry': {
      for (const [chatKey, list] of Object.entries(state.messages)) {
        const m = list.find(x => x.id === action.id);
        if (m && m.role === 'user' && (m.error || m.pending)) {
          if (state.outbox.some(e => e.id === m.id)) {
            return state;
          }
          const cleared = list.map(x => (x.id === m.id ? { ...x, error: undefined } : x));
          return {
            ...state,
            messages: { ...state.messages, [chatKey]: cleared },
            outbox: [...state.outbox, { id: m.id, chatKey, content: m.content, sentEpoch: null }]
          };
        }
      }
      return state;
    }
  }
}

/** Refused, not stored: keep a queued message on screen with the reason; Retry resends it. */
export function refuse(state: State, id: string, reason: string): State {
  const queued = state.outbox.find(e => e.id === id);
  if (!queued) {
    return state;
  }
  const list = state.messages[queued.chatKey] ?? [];
  return {
    ...state,
    outbox: state.outbox.filter(e => e.id !== id),
    messages: {
      ...state.messages,
      [queued.chatKey]: list.map(m => (m.id === id ? { ...m, error: reason } : m))
    }
  };
}

/**
 * The queued messages to send now, in the order they were typed.
 *
 * Each is sent once per connection; after a reconnect every entry the server has not
 * echoed is sent again (the server de-duplicates by id, so this cannot store it twice).
 * Only the first message of a chat the server has not created yet may go: the ones after
 * it wait for its echo, which names the chat they belong to. A draft limited to part of the
 * library sends nothing until `POST chats` has created its chat (see `draftsToCreate`).
 */
export function dueMessages(state: State): OutboxEntry[] {
  if (state.connection !== 'connected') {
    return [];
  }
  const due: OutboxEntry[] = [];
  const draftsSeen = new Set<string>();
  for (const entry of state.outbox) {
    if (state.draftScopes[entry.chatKey]) {
      continue;
    }
    if (isDraft(entry.chatKey)) {
      if (draftsSeen.has(entry.chatKey)) {
        continue;
      }
      draftsSeen.add(entry.chatKey);
    }
    if (entry.sentEpoch !== state.epoch) {
      due.push(entry);
    }
  }
  return due;
}

/**
 * The first queued message of each draft whose chat must be created, with its scope, before
 * the message can go; its text gives the chat its title.
 */
export function draftsToCreate(state: State): OutboxEntry[] {
  if (state.connection !== 'connected') {
    return [];
  }
  const seen = new Set<string>();
  return state.outbox.filter(e => {
    if (!state.draftScopes[e.chatKey] || seen.has(e.chatKey)) {
      return false;
    }
    seen.add(e.chatKey);
    return true;
  });
}
