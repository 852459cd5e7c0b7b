/**
 * The panel's state and the pure reducer that folds server frames and user actions into it.
 *
 * No DOM, no network, no JupyterLab: everything here is unit-tested with jest.
 */
import type { Chat, ChatScope, Document, Message, ServerFrame } from './protocol';
import { isWholeLibrary } from './scope';

/** What the connection indicator shows. */
export type ConnectionState = 'connected' | 'reconnecting' | 'offline';

/** A message as the server sent it, or as typed here: without chat, status or citations
 * until the server echoes it. */
export type MessageFields = Omit<Message, 'chat_id' | 'status' | 'citations'> &
  Partial<Pick<Message, 'chat_id' | 'status' | 'citations'>>;

/** A message as the panel holds it. */
export interface LocalMessage extends MessageFields {
  /** Arrival order, assigned once per id: breaks timestamp ties. */
  seq: number;
  /** MessageFields here and not yet echoed by the server. */
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
  lastError: ErrorInfo | null;
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
    lastError: null,
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
  | { type: 'error/dismissed' };

// ---------------------------------------------------------------------------
// Ordering

function timeOf(m: LocalMessage): number {
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

function sortChats(chats: Chat[]): Chat[] {
  return [...chats].sort((a, b) => {
    const d = Date.parse(b.updated_at) - Date.parse(a.updated_at);
    return Number.isNaN(d) || d === 0 ? a.id.localeCompare(b.id) : d;
  });
}

// ---------------------------------------------------------------------------
// Messages

/**
 * Insert or merge `incoming` into `list` by id (a streamed reply arrives as repeated frames
 * with one id and growing content) and keep the list ordered.
 */
function upsertInto(
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

/** Point everything a draft key held at the chat the server created for it. */
function resolveDraft(state: State, draftKey: string, chatId: string): State {
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

/** Refused, not stored: keep a queued message on screen with the reason; Retry resends it. */
function refuse(state: State, id: string, reason: string): State {
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

/** Fold one confirmed (server-side) message into the state. */
function confirmMessage(state: State, message: Message, chatId: string): State {
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

function bumpChat(state: State, chatId: string, timestamp: string): State {
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

function setTyping(state: State, chatKey: string, who: string, isTyping: boolean): State {
  const current = state.typing[chatKey] ?? {};
  if (!!current[who] === isTyping) {
    return state;
  }
  const updated = { ...current };
  if (isTyping) {
    updated[who] = true;
  } else {
    delete updated[who];
  }
  return { ...state, typing: { ...state.typing, [chatKey]: updated } };
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

function removeChat(state: State, chatId: string): State {
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

function upsertChat(state: State, chat: Chat): State {
  const others = state.chats.filter(c => c.id !== chat.id);
  const existing = state.chats.find(c => c.id === chat.id);
  return { ...state, chats: sortChats([...others, { ...existing, ...chat }]) };
}

// ---------------------------------------------------------------------------
// Frames

/** The chat a frame is about, if any. */
function chatOfFrame(frame: ServerFrame): string | undefined {
  switch (frame.type) {
    case 'chat_created':
    case 'chat_updated':
    case 'messages':
    case 'typing':
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

/** Record news of a chat (see `chatActivity`). */
function heardOf(state: State, chatId: string): State {
  return {
    ...state,
    seq: state.seq + 1,
    chatActivity: { ...state.chatActivity, [chatId]: state.seq }
  };
}

function applyFrameContent(state: State, frame: ServerFrame): State {
  switch (frame.type) {
    case 'auth_ok':
      return { ...state, userId: frame.data.user_id };
    case 'chat_created': {
      if (state.chats.some(c => c.id === frame.data.chat_id)) {
        return state;
      }
      const now = new Date().toISOString();
      const { chat_id, title, created_at, updated_at, message_count, scope } = frame.data;
      return upsertChat(state, {
        id: chat_id,
        title,
        created_at: created_at ?? now,
        updated_at: updated_at ?? now,
        message_count: message_count ?? 0,
        scope: scope ?? null
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
    case 'message': {
      const chatId = frame.data.chat_id ?? frame.data.message.chat_id;
      if (!chatId) {
        return state;
      }
      return confirmMessage(state, frame.data.message, chatId);
    }
    case 'typing': {
      const who = frame.data.role === 'assistant' ? 'assistant' : frame.data.user_id;
      return setTyping(state, frame.data.chat_id, who, frame.data.is_typing);
    }
    case 'messages':
      return mergePage(state, frame.data.chat_id, frame.data.messages, frame.data.has_more);
    case 'error': {
      const ref = frame.data.ref ?? null;
      const next: State = { ...state, lastError: { ...frame.data } };
      return ref ? refuse(next, ref, frame.data.message || frame.data.code) : next;
    }
    case 'message_delta': {
      const { chat_id, message_id, offset, text } = frame.data;
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
    case 'library': {
      if (frame.data.event === 'removed') {
        return reduce(state, { type: 'document/removed', documentId: frame.data.document_id });
      }
      const { document } = frame.data;
      return upsertDocument(state, document, document.progress);
    }
    default:
      return state;
  }
}

function upsertDocument(state: State, document: Document, progress?: number | null): State {
  const others = state.documents.filter(d => d.id !== document.id);
  const index = state.documents.findIndex(d => d.id === document.id);
  const documents =
    index >= 0
      ? state.documents.map(d => (d.id === document.id ? document : d))
      : [document, ...others];
  const nextProgress = { ...state.progress };
  if (document.status === 'indexing' && typeof progress === 'number') {
    nextProgress[document.id] = Math.max(0, Math.min(1, progress));
  } else if (document.status !== 'indexing') {
    delete nextProgress[document.id];
  }
  return { ...state, documents, progress: nextProgress };
}

// ---------------------------------------------------------------------------
// The reducer

export function reduce(state: State, action: Action): State {
  switch (action.type) {
    case 'connection/opened':
      return { ...state, connection: 'connected', epoch: state.epoch + 1 };
    case 'connection/closed':
      // Nobody can be seen typing through a closed connection.
      return { ...state, connection: action.state, typing: {} };
    case 'frame':
      return applyFrame(state, action.frame);
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
    case 'documents/loaded': {
      const progress: Record<string, number> = {};
      for (const d of action.documents) {
        const known = state.progress[d.id] ?? d.progress;
        if (d.status === 'indexing' && typeof known === 'number') {
          progress[d.id] = known;
        }
      }
      // `added` keeps ids this list lacks: a list asked for before an add may answer after it.
      return { ...state, documents: action.documents, libraryLoaded: true, progress };
    }
    case 'document/upserted': {
      const next = upsertDocument(state, action.document, action.progress);
      const id = action.document.id;
      return action.added && !next.added.includes(id)
        ? { ...next, added: [...next.added, id] }
        : next;
    }
    case 'document/removed': {
      const progress = { ...state.progress };
      delete progress[action.documentId];
      return {
        ...state,
        documents: state.documents.filter(d => d.id !== action.documentId),
        added: state.added.filter(id => id !== action.documentId),
        progress
      };
    }
    case 'error/dismissed':
      return { ...state, lastError: null };
    default:
      return state;
  }
}

// ---------------------------------------------------------------------------
// Selectors

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

/** Who is typing in that chat, other than this connection. */
export function typingIn(state: State, chatKey: string | null): string[] {
  if (chatKey === null) {
    return [];
  }
  const who = state.typing[state.drafts[chatKey] ?? chatKey] ?? {};
  return Object.keys(who).filter(k => who[k]);
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

/** Whether the server said the library holds no document (not merely: not loaded yet). */
export function libraryIsEmpty(state: State): boolean {
  return state.libraryLoaded && state.documents.length === 0;
}

/** The documents the user added from this panel, oldest first. */
export function addedDocuments(state: State): Document[] {
  return state.added
    .map(id => state.documents.find(d => d.id === id))
    .filter((d): d is Document => d !== undefined);
}
