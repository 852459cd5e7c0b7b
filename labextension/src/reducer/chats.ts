/**
 * The chat list: newest first, kept live by `chat_created`, `chat_updated` and `chat_deleted`,
 * reloaded without losing a chat the list was asked for too early to know.
 */
import type { Chat, ChatCreatedFrame, ChatDeletedFrame, ChatUpdatedFrame } from '../protocol';
import type { Action, State } from './state';

export type ChatsAction = Extract<
  Action,
  { type: 'chats/loaded' } | { type: 'chat/upserted' } | { type: 'chat/removed' }
>;

export type ChatFrame = ChatCreatedFrame | ChatUpdatedFrame | ChatDeletedFrame;

function sortChats(chats: Chat[]): Chat[] {
  return [...chats].sort((a, b) => {
    const d = Date.parse(b.updated_at) - Date.parse(a.updated_at);
    return Number.isNaN(d) || d === 0 ? a.id.localeCompare(b.id) : d;
  });
}

export function upsertChat(state: State, chat: Chat): State {
  const others = state.chats.filter(c => c.id !== chat.id);
  const existing = state.chats.find(c => c.id === chat.id);
  return { ...state, chats: sortChats([...others, { ...existing, ...chat }]) };
}

/** A chat and everything held for it: messages, typing, paging, queued messages. */
export function removeChat(state: State, chatId: string): State {
  const messages = { ...state.messages };
  delete messages[chatId];
  const typing = { ...state.typing };
  delete typing[chatId];
  const hasMore = { ...state.hasMore };
  delete hasMore[chatId];
  return {
    ...state,
    chats: state.chats.filter(c => c.id !== chatId),
    messages,
    typing,
    hasMore,
    outbox: state.outbox.filter(e => e.chatKey !== chatId),
    activeChat: state.activeChat === chatId ? null : state.activeChat
  };
}

/** A message at `timestamp` moves its chat up the list. */
export function bumpChat(state: State, chatId: string, timestamp: string): State {
  const index = state.chats.findIndex(c => c.id === chatId);
  if (index < 0) {
    return state;
  }
  const chat = state.chats[index];
  const t = Date.parse(timestamp);
  if (Number.isNaN(t) || t <= Date.parse(chat.updated_at)) {
    return state;
  }
  const chats = [...state.chats];
  chats[index] = { ...chat, updated_at: timestamp };
  return { ...state, chats: sortChats(chats) };
}

/** Record news of a chat (see `chatActivity`). */
export function heardOf(state: State, chatId: string): State {
  return {
    ...state,
    seq: state.seq + 1,
    chatActivity: { ...state.chatActivity, [chatId]: state.seq }
  };
}

export function applyChatFrame(state: State, frame: ChatFrame): State {
  switch (frame.type) {
    case 'chat_created': {
      if (state.chats.some(c => c.id === frame.data.chat_id)) {
        return state;
      }
      const now = new Date().toISOString();
      const { chat_id, title, created_at, updated_at, message_count, scope } = frame.data;
      const { unread, read_up_to } = frame.data;
      return upsertChat(state, {
        id: chat_id,
        title,
        created_at: created_at ?? now,
        updated_at: updated_at ?? now,
        message_count: message_count ?? 0,
        scope: scope ?? null,
        unread: unread ?? 0,
        read_up_to: read_up_to ?? null
      });
    }
    case 'chat_updated': {
      const existing = state.chats.find(c => c.id === frame.data.chat_id);
      if (!existing) {
        return state;
      }
      const { chat_id, ...changes } = frame.data;
      const defined: Partial<Chat> = Object.fromEntries(
        Object.entries(changes).filter(([, v]) => v !== undefined && v !== null)
      );
      if ('scope' in changes) {
        // Here `null` says something: the chat draws on the whole library again.
        defined.scope = changes.scope ?? null;
      }
      return upsertChat(state, { ...existing, ...defined, id: chat_id });
    }
    case 'chat_deleted':
      return removeChat(state, frame.data.chat_id);
  }
}

export function reduceChats(state: State, action: ChatsAction): State {
  switch (action.type) {
    case 'chats/loaded': {
      // A chat the server does not list was deleted while we were away, unless we heard of
      // it after the list was asked for (it is newer than the list).
      const ids = new Set(action.chats.map(c => c.id));
      const since = action.since ?? Infinity;
      let next = state;
      const newer: Chat[] = [];
      for (const chat of state.chats) {
        if (ids.has(chat.id)) {
          continue;
        }
        if ((state.chatActivity[chat.id] ?? -1) >= since) {
          newer.push(chat);
        } else {
          next = removeChat(next, chat.id);
        }
      }
      return { ...next, chats: sortChats([...action.chats, ...newer]) };
    }
    case 'chat/upserted':
      return upsertChat(state, action.chat);
    case 'chat/removed':
      return removeChat(state, action.chatId);
  }
}
