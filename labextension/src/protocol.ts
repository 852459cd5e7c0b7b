/**
 * The StudyMate wire vocabulary: every WebSocket frame and REST body of the public
 * contract, as tagged unions whose names mirror the server's `protocol.py` exactly.
 *
 * Nothing here talks to the network; `connection.ts` and `api.ts` do.
 */

/** Who wrote a message. */
export type Role = 'user' | 'assistant';

/** Where an assistant reply stands; absent on messages that never streamed. */
export type MessageStatus = 'streaming' | 'complete' | 'stopped' | 'error';

/** One cited passage. Pages are 1-based (PDF page index, notebook cell, Markdown section). */
export interface CitationResponse {
  document_id: string;
  chunk_id: string;
  filename: string;
  page_start: number;
  page_end: number;
  score: number;
  /** A notebook cell id or a Markdown heading slug, where that locates it better. */
  anchor?: string | null;
  /** Extension: the document's path relative to the server root, to open it at the page. */
  path?: string;
}

/** A chat message as the server stores and sends it. */
export interface Message {
  id: string;
  role: Role;
  /** Markdown. */
  content: string;
  citations?: CitationResponse[];
  /** ISO 8601, UTC; the server replaces a client's timestamp with its own. */
  timestamp: string;
  chat_id?: string;
  status?: MessageStatus;
  /** Extension, on an assistant message: the id of the user message it answers. */
  reply_to?: string | null;
}

/** Extension: the part of the library a chat draws on (`null`: all of it). */
export interface ChatScope {
  folder?: string | null;
  document_ids?: string[] | null;
}

/** A chat as `GET studymate/api/chats` lists it. */
export interface Chat {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  message_count: number;
  scope?: ChatScope | null;
}

/** Ingestion state of a library document. */
export type DocumentStatus = 'queued' | 'indexing' | 'ready' | 'failed';

/** A document of the study library. */
export interface Document {
  id: string;
  /** Relative to the server's root_dir. */
  path: string;
  filename: string;
  kind?: 'pdf' | 'markdown' | 'text' | 'notebook' | string;
  status: DocumentStatus;
  /** A reason for people when `failed`. */
  error?: string | null;
  /** Ingestion progress, 0–1. */
  progress?: number;
  pages: number;
  chunks: number;
  size: number;
  sha256: string;
  created_at: string;
  updated_at: string;
}

/** `GET documents/{id}/chunks/{chunk_id}`: the passage behind a citation. */
export interface Passage {
  document_id?: string;
  chunk_id?: string;
  filename?: string;
  path?: string;
  text: string;
  page_start: number;
  page_end: number;
  anchor?: string | null;
  heading?: string;
  /** `changed`: the file was indexed again since; `removed`: it left the library. */
  source?: 'current' | 'changed' | 'removed';
}

/** The passage behind a citation (the contract's name for it is "chunk"). */
export type Chunk = Passage;

/** `GET studymate/api/me`. */
export interface Me {
  user_id: string;
  display_name: string;
}

/** Stable machine words of an `error` frame or REST error body. */
export type ErrorCode =
  | 'bad_request'
  | 'forbidden'
  | 'not_found'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable';

// ---------------------------------------------------------------------------
// Client → server frames

/** Confirm the identity and subscribe to `chat_id`. */
export interface AuthFrame {
  type: 'auth';
  data: {
    user_id?: string;
    chat_id?: string;
    /** Extension: how replies stream. Only `full` (whole content per frame) is used here. */
    stream?: 'full' | 'delta';
  };
}

/** Send a user message; without `chat_id` the server creates a chat. */
export interface MessageFrame {
  type: 'message';
  data: {
    message: Pick<Message, 'id' | 'role' | 'content'> & Partial<Message>;
    user_id?: string;
    chat_id?: string;
  };
}

export interface TypingFrame {
  type: 'typing';
  data: { user_id?: string; chat_id?: string; is_typing: boolean };
}

export interface LoadMessagesFrame {
  type: 'load_messages';
  data: { chat_id: string; user_id?: string; before?: string; limit?: number };
}

/** Stop the assistant's reply in progress in `chat_id`. */
export interface StopFrame {
  type: 'stop';
  data: { chat_id: string };
}

/** Extension: stop hearing a chat's `message` and `typing` frames. */
export interface UnsubscribeFrame {
  type: 'unsubscribe';
  data: { chat_id: string };
}

export type ClientFrame =
  | AuthFrame
  | MessageFrame
  | TypingFrame
  | LoadMessagesFrame
  | StopFrame
  | UnsubscribeFrame;

// ---------------------------------------------------------------------------
// Server → client frames

export interface AuthOkFrame {
  type: 'auth_ok';
  data: { user_id: string; chat_id?: string | null };
}

/** The contract's `chat_id` and `title`; the extension adds the rest of the Chat. */
export interface ChatCreatedFrame {
  type: 'chat_created';
  data: { chat_id: string; title: string } & Partial<Omit<Chat, 'title'>>;
}

/** As `chat_created`; a `scope` of `null` means the chat draws on the whole library again. */
export interface ChatUpdatedFrame {
  type: 'chat_updated';
  data: { chat_id: string } & Partial<Chat>;
}

export interface ChatDeletedFrame {
  type: 'chat_deleted';
  data: { chat_id: string };
}

export interface ServerMessageFrame {
  type: 'message';
  data: { message: Message; user_id: string; chat_id: string };
}

export interface ServerTypingFrame {
  type: 'typing';
  data: { user_id: string; role: Role; chat_id: string; is_typing: boolean };
}

export interface MessagesFrame {
  type: 'messages';
  data: { chat_id: string; messages: Message[]; has_more: boolean };
}

export interface ErrorFrame {
  type: 'error';
  data: { code: ErrorCode | string; message: string; ref?: string | null };
}

/** Extension (`stream: "delta"` only): `content = content[:offset] + text` on `message_id`. */
export interface MessageDeltaFrame {
  type: 'message_delta';
  data: { chat_id: string; message_id: string; offset: number; text: string };
}

/**
 * Extension: a library document changed (`event: "updated"`, with its status and progress
 * 0–1) or left the library (`event: "removed"`).
 */
export interface LibraryFrame {
  type: 'library';
  data: {
    event?: 'updated' | 'removed';
    document?: Document;
    document_id?: string;
    progress?: number | null;
  };
}

export type ServerFrame =
  | AuthOkFrame
  | ChatCreatedFrame
  | ChatUpdatedFrame
  | ChatDeletedFrame
  | ServerMessageFrame
  | MessageDeltaFrame
  | ServerTypingFrame
  | MessagesFrame
  | ErrorFrame
  | LibraryFrame;

const SERVER_TYPES: ReadonlySet<string> = new Set<ServerFrame['type']>([
  'auth_ok',
  'chat_created',
  'chat_updated',
  'chat_deleted',
  'message',
  'message_delta',
  'typing',
  'messages',
  'error',
  'library'
]);

/**
 * Parse one server frame, or return `null` for anything that is not a known frame.
 *
 * Only the envelope is checked: the server validates what it sends, and an unknown
 * frame type from a newer server must be ignored, not crash the panel.
 */
export function parseServerFrame(raw: string): ServerFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const { type, data } = value as { type?: unknown; data?: unknown };
  if (typeof type !== 'string' || !SERVER_TYPES.has(type)) {
    return null;
  }
  if (typeof data !== 'object' || data === null) {
    return null;
  }
  return value as ServerFrame;
}

/** The comm message a notebook widget sends to ask JupyterLab to open a citation. */
export interface OpenCitationCommMessage {
  action: 'open_citation';
  path: string;
  page: number;
  anchor?: string | null;
}

export function isOpenCitationCommMessage(value: unknown): value is OpenCitationCommMessage {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const v = value as Record<string, unknown>;
  return (
    v.action === 'open_citation' &&
    typeof v.path === 'string' &&
    (v.page === undefined || v.page === null || typeof v.page === 'number') &&
    (v.anchor === undefined || v.anchor === null || typeof v.anchor === 'string')
  );
}
