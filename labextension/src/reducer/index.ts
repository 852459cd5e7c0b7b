/**
 * The panel's state and the pure reducer that folds server frames and user actions into it,
 * composed of one module per slice: `state` (its shape and the actions), `messages`,
 * `conversation` (echoes and pages), `outbox` (connection and offline queue), `drafts` (new
 * chats), `chats`, `typing`, `library`, `me` (whether an instructor), `assistant`,
 * `reactions` (reactions and feedback), `read` (unread counts and when to say a chat was
 * read) and `focus` (a message to show).
 *
 * No DOM, no network, no JupyterLab: everything here is unit-tested with jest.
 */
import type { ServerFrame } from '../protocol';
import { reduceAssistant } from './assistant';
import { applyChatFrame, heardOf, reduceChats } from './chats';
import { applyMessage, mergePage } from './conversation';
import { reduceDrafts } from './drafts';
import { reduceFocus } from './focus';
import { applyLibraryFrame, reduceLibrary } from './library';
import { reduceMe } from './me';
import { applyDelta } from './messages';
import { reduceOutbox, refuse } from './outbox';
import { applyFeedback, applyReaction } from './reactions';
import type { Action, State } from './state';
import { applyTyping } from './typing';

export type {
  Action,
  ConnectionState,
  ErrorInfo,
  LocalMessage,
  MessageFields,
  OutboxEntry,
  State
} from './state';
export { DRAFT_PREFIX, initialState, isDraft } from './state';
export { compareMessages, isStreaming, messagesOf } from './messages';
export { mergePage } from './conversation';
export { draftsToCreate, dueMessages } from './outbox';
export { isBlankDraft } from './drafts';
export { typingIn } from './typing';
export {
  addedDocuments,
  courseDocuments,
  libraryIsEmpty,
  personalDocuments,
  retrievalNotice
} from './library';
export { isInstructor } from './me';
export { endsReplyInError } from './assistant';
export { focusStep } from './focus';
export type { FocusStep } from './focus';
export { newestSettled, readToSend, unreadBadge } from './read';
export type { ReadInput } from './read';

export function reduce(state: State, action: Action): State {
  switch (action.type) {
    case 'frame':
      return applyFrame(state, action.frame);
    case 'connection/opened':
    case 'connection/closed':
    case 'send':
    case 'outbox/sent':
    case 'retry':
      return reduceOutbox(state, action);
    case 'chats/loaded':
    case 'chat/upserted':
    case 'chat/removed':
      return reduceChats(state, action);
    case 'chat/open':
    case 'draft/scoped':
    case 'draft/created':
    case 'draft/failed':
      return reduceDrafts(state, action);
    case 'documents/loaded':
    case 'document/upserted':
    case 'document/removed':
    case 'retrieval/loaded':
    case 'retrieval/dismissed':
      return reduceLibrary(state, action);
    case 'me/loaded':
      return reduceMe(state, action);
    case 'assistant/loaded':
      return reduceAssistant(state, action);
    case 'focus/set':
    case 'focus/cleared':
      return reduceFocus(state, action);
    case 'error/dismissed':
      return { ...state, lastError: null };
    default:
      return state;
  }
}

/** The chat a frame is about, if any. */
function chatOfFrame(frame: ServerFrame): string | undefined {
  switch (frame.type) {
    case 'chat_created':
    case 'chat_updated':
    case 'messages':
    case 'typing':
    case 'reaction':
    case 'feedback':
      return frame.data.chat_id;
    case 'message':
      return frame.data.chat_id ?? frame.data.message.chat_id;
    default:
      return undefined;
  }
}

function applyFrame(state: State, frame: ServerFrame): State {
  const chatId = chatOfFrame(frame);
  const next = applyFrameContent(state, frame);
  return !chatId || next === state ? next : heardOf(next, chatId);
}

function applyFrameContent(state: State, frame: ServerFrame): State {
  switch (frame.type) {
    case 'auth_ok':
      return { ...state, userId: frame.data.user_id };
    case 'chat_created':
    case 'chat_updated':
    case 'chat_deleted':
      return applyChatFrame(state, frame);
    case 'message':
      return applyMessage(state, frame.data);
    case 'messages':
      return mergePage(state, frame.data.chat_id, frame.data.messages, frame.data.has_more);
    case 'message_delta':
      return applyDelta(state, frame.data);
    case 'typing':
      return applyTyping(state, frame.data);
    case 'error': {
      const ref = frame.data.ref ?? null;
      const next: State = { ...state, lastError: { ...frame.data } };
      return ref ? refuse(next, ref, frame.data.message || frame.data.code) : next;
    }
    case 'library':
      return applyLibraryFrame(state, frame);
    case 'reaction':
      return applyReaction(state, frame.data);
    case 'feedback':
      return applyFeedback(state, frame.data);
    default:
      return state;
  }
}
