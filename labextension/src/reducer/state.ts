/**
 * The panel's state, the actions that change it, and the draft keys of chats the server has
 * not created yet. Each slice of it has its module beside this one; `index.ts` composes them.
 */
import type {
  AssistantInfo,
  Chat,
  ChatScope,
  Document,
  Me,
  Message,
  RetrievalInfo,
  ServerFrame
} from '../protocol';

/** What the connection indicator shows. */
export type ConnectionState = 'connected' | 'reconnecting' | 'offline';

/**
 * A message as the server sent it, or as typed here: without chat, status or citations until
 * the server echoes it.
 */
export type MessageFields = Omit<Message, 'chat_id' | 'status' | 'citations'> &
  Partial<Pick<Message, 'chat_id' | 'status' | 'citations'>>;

/** A message as the panel holds it. */
export interface LocalMessage extends MessageFields {
  /** Arrival order, assigned once per id: breaks timestamp ties. */
  seq: number;
  /** Typed here and not yet echoed by the server. */
  pending?: boolean;
  /** Why the server refused it (an `error` frame whose `ref` is this id). */
  error?: string;
}

/** A user message waiting for the server's echo. */
export interface OutboxEntry {
  id: string;
  /** A chat id, or a draft key (`draft:…`) for a chat the server has not created yet. */
  chatKey: string;
  content: string;
  /** The connection epoch it was last sent on; `null` if never sent. */
  sentEpoch: number | null;
}

export interface ErrorInfo {
  code: string;
  message: string;
  ref?: string | null;
}

export interface State {
  connection: ConnectionState;
  /** Increments on every opened connection; an entry sent on an older epoch is resent. */
  epoch: number;
  userId: string | null;
  /** Newest first (by `updated_at`). */
  chats: Chat[];
  /** The chat on screen: a chat id, a draft key, or `null` for the chat list. */
  activeChat: string | null;
  /** Per chat key, ordered for display. */
  messages: Record<string, LocalMessage[]>;
  hasMore: Record<string, boolean>;
  /** Per chat key: who (`assistant` or a user id) is typing. */
  typing: Record<string, Record<string, boolean>>;
  outbox: OutboxEntry[];
  /** Draft key → the chat id the server created for it. */
  drafts: Record<string, string>;
  /**
   * Draft key → the part of the library its chat is to draw on (absent: all of it). Such a
   * chat is created by `POST chats` before its first message goes.
   */
  draftScopes: Record<string, ChatScope>;
  documents: Document[];
  /** Whether `documents` is the server's list (until then, an empty list says nothing). */
  libraryLoaded: boolean;
  /** The documents the user added from this panel since it opened, oldest first. */
  added: string[];
  /** Ingestion progress per document id (0..1) while it is being indexed. */
  progress: Record<string, number>;
  /** How the library ranks passages (`GET retrieval`); `null` until the server said. */
  retrieval: RetrievalInfo | null;
  /** The retrieval notice the user dismissed: the same one is not shown again. */
  dismissedNotice: string | null;
  /** Who the user is (`GET me`): whether an instructor; `null` until the server said. */
  me: Me | null;
  /** Who answers and whether it can now (`GET assistant`); `null` until the server said. */
  assistant: AssistantInfo | null;
  lastError: ErrorInfo | null;
  /**
   * A message the view is to scroll to and highlight once it is loaded (a search result the
   * user chose); cleared when it has been shown.
   */
  focus: { chatId: string; messageId: string } | null;
  /** The next arrival sequence number (also counts frames, see `chatActivity`). */
  seq: number;
  /**
   * Per chat id, the `seq` of the last frame about it: a chat list requested before that
   * frame may not know the chat yet, so it must not be taken as deleted.
   */
  chatActivity: Record<string, number>;
}

export const DRAFT_PREFIX = 'draft:';

export function isDraft(chatKey: string | null): boolean {
  return chatKey !== null && chatKey.startsWith(DRAFT_PREFIX);
}

export function initialState(): State {
  return {
    connection: 'reconnecting',
    epoch: 0,
    userId: null,
    chats: [],
    activeChat: null,
    messages: {},
    hasMore: {},
    typing: {},
    outbox: [],
    drafts: {},
    draftScopes: {},
    documents: [],
    libraryLoaded: false,
    added: [],
    progress: {},
    retrieval: null,
    dismissedNotice: null,
    me: null,
    assistant: null,
    lastError: null,
    focus: null,
    seq: 0,
    chatActivity: {}
  };
}

export type Action =
  | { type: 'connection/opened' }
  | { type: 'connection/closed'; state: Exclude<ConnectionState, 'connected'> }
  | { type: 'frame'; frame: ServerFrame }
  /** `since`: the `seq` when the list was requested (see `chatActivity`). */
  | { type: 'chats/loaded'; chats: Chat[]; since?: number }
  | { type: 'chat/upserted'; chat: Chat }
  | { type: 'chat/removed'; chatId: string }
  | { type: 'chat/open'; chatKey: string | null }
  /** `scope: null`: the draft draws on the whole library again. */
  | { type: 'draft/scoped'; chatKey: string; scope: ChatScope | null }
  | { type: 'draft/created'; chatKey: string; chat: Chat }
  | { type: 'draft/failed'; chatKey: string; reason: string }
  | { type: 'send'; id: string; chatKey: string; content: string; timestamp: string }
  | { type: 'outbox/sent'; ids: string[]; epoch: number }
  | { type: 'retry'; id: string }
  | { type: 'documents/loaded'; documents: Document[] }
  /** `added`: the user added it just now (it joins `State.added`). */
  | { type: 'document/upserted'; document: Document; progress?: number | null; added?: boolean }
  | { type: 'document/removed'; documentId: string }
  | { type: 'retrieval/loaded'; info: RetrievalInfo }
  | { type: 'retrieval/dismissed' }
  | { type: 'me/loaded'; me: Me }
  | { type: 'assistant/loaded'; info: AssistantInfo }
  | { type: 'focus/set'; chatId: string; messageId: string }
  | { type: 'focus/cleared' }
  | { type: 'error/dismissed' };
