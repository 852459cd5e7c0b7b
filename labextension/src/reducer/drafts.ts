/**
 * New chats, before the server has created them: the first view opens on one (a draft key),
 * which may be limited to part of the library; the server's chat takes over what it held.
 */
import { isWholeLibrary } from '../scope';
import { heardOf, upsertChat } from './chats';
import { compareMessages, messagesOf } from './messages';
import { refuse } from './outbox';
import type { Action, State } from './state';
import { isDraft } from './state';

export type DraftsAction = Extract<
  Action,
  | { type: 'chat/open' }
  | { type: 'draft/scoped' }
  | { type: 'draft/created' }
  | { type: 'draft/failed' }
>;

export function reduceDrafts(state: State, action: DraftsAction): State {
  switch (action.type) {
    case 'chat/open': {
      const key =
        action.chatKey !== null && state.drafts[action.chatKey]
          ? state.drafts[action.chatKey]
          : action.chatKey;
      return { ...state, activeChat: key };
    }
    case 'draft/scoped': {
      if (!isDraft(action.chatKey) || state.drafts[action.chatKey]) {
        return state;
      }
      const draftScopes = { ...state.draftScopes };
      if (action.scope && !isWholeLibrary(action.scope)) {
        draftScopes[action.chatKey] = action.scope;
      } else {
        delete draftScopes[action.chatKey];
      }
      return { ...state, draftScopes };
    }
    case 'draft/created': {
      const { chatKey, chat } = action;
      // Newer than any chat list asked for before the POST, which must not drop it.
      return heardOf(resolveDraft(upsertChat(state, chat), chatKey, chat.id), chat.id);
    }
    case 'draft/failed':
      return state.outbox
        .filter(e => e.chatKey === action.chatKey)
        .reduce((next, e) => refuse(next, e.id, action.reason), state);
  }
}

/** Point everything a draft key held at the chat the server created for it. */
export function resolveDraft(state: State, draftKey: string, chatId: string): State {
  if (state.drafts[draftKey] === chatId && !state.messages[draftKey]) {
    return state;
  }
  const messages = { ...state.messages };
  const fromDraft = messages[draftKey] ?? [];
  delete messages[draftKey];
  const merged = [...(messages[chatId] ?? [])];
  for (const m of fromDraft) {
    if (!merged.some(x => x.id === m.id)) {
      merged.push({ ...m, chat_id: chatId });
    }
  }
  merged.sort(compareMessages);
  messages[chatId] = merged;
  const typing = { ...state.typing };
  delete typing[draftKey];
  const draftScopes = { ...state.draftScopes };
  delete draftScopes[draftKey];
  return {
    ...state,
    messages,
    typing,
    draftScopes,
    drafts: { ...state.drafts, [draftKey]: chatId },
    outbox: state.outbox.map(e => (e.chatKey === draftKey ? { ...e, chatKey: chatId } : e)),
    activeChat: state.activeChat === draftKey ? chatId : state.activeChat
  };
}

/**
 * Whether the chat on screen under `chatKey` is a new chat nothing has been done in yet: no
 * message, no scope. The panel opens on one; "New chat" from it would change nothing.
 */
export function isBlankDraft(state: State, chatKey: string | null): boolean {
  return (
    isDraft(chatKey) &&
    !state.drafts[chatKey!] &&
    !state.draftScopes[chatKey!] &&
    messagesOf(state, chatKey).length === 0
  );
}
