/**
 * The StudyMate wire vocabulary: every WebSocket frame and REST record, under the names the
 * server declares them by in `studymate_jupyter/protocol/`.
 *
 * Nothing is declared twice: the types are generated (`npm run generate`, run by build, test
 * and typecheck) into `protocol.generated.ts` from `protocol.schema.json`, which
 * `tests/test_protocol_schema.py` keeps equal to `python -m studymate_jupyter.protocol
 * --schema`. A field renamed in Python therefore changes the types here, and every use of the
 * old name fails to compile. This module adds what the panel needs on top: the names the
 * Python side gives only as literals, frame parsing, and the notebook widget's comm message.
 *
 * Nothing here talks to the network; `connection.ts` and `api.ts` do.
 */
import type {
  AuthData,
  Document,
  ErrorData,
  Feedback,
  Message,
  Passage,
  ServerFrame
} from './protocol.generated';

export type {
  AssistantInfo,
  AuthData,
  AuthFrame,
  AuthOkData,
  AuthOkFrame,
  ChatCreatedFrame,
  ChatDeletedData,
  ChatDeletedFrame,
  ChatEventData,
  Chat,
  ChatPatch,
  ChatRefData,
  ChatScope,
  ChatUpdatedFrame,
  Citation,
  ClientFrame,
  Document,
  ErrorData,
  ErrorFrame,
  Feedback,
  FeedbackData,
  FeedbackEventData,
  FeedbackEventFrame,
  FeedbackFrame,
  InboundMessage,
  LibraryFrame,
  LibraryRemovedData,
  LibraryUpdatedData,
  LoadMessagesData,
  LoadMessagesFrame,
  Me,
  Message,
  MessageData,
  MessageDeltaData,
  MessageDeltaFrame,
  MessageEventData,
  MessageEventFrame,
  MessageFrame,
  MessageSearchPage,
  MessageSearchResult,
  MessagesData,
  MessagesFrame,
  MessagesPage,
  NewChat,
  NewDocument,
  Passage,
  ReactData,
  ReactFrame,
  ReactionData,
  ReactionFrame,
  ReadData,
  ReadFrame,
  RetrievalInfo,
  ScopeBody,
  SearchResult,
  ServerFrame,
  StopFrame,
  TypingData,
  TypingEventData,
  TypingEventFrame,
  TypingFrame,
  UnsubscribeFrame
} from './protocol.generated';

// The `Literal` aliases of `protocol/records.py` and `errors.py`, read off the fields that
// use them (JSON Schema inlines a literal type where it is used).
export type Role = Message['role'];
export type MessageStatus = Message['status'];
export type DocumentStatus = Document['status'];
export type VectorStatus = Document['vectors'];
export type SourceStatus = Passage['source'];
export type ErrorCode = ErrorData['code'];
export type StreamMode = NonNullable<AuthData['stream']>;
export type Rating = Feedback['rating'];
/** Whose library a document is in: the user's own, or the course's that everyone reads. */
export type Library = Document['library'];
/** A message's reactions: emoji → the users who put it on. */
export type Reactions = NonNullable<Message['reactions']>;

/**
 * The emoji a message may be reacted with, in the order pickers show them: `REACTION_EMOJI`
 * of `protocol/records.py` (the schema types the field as a string; the server refuses others).
 */
export const REACTION_EMOJI = [
  '\u{1F44D}', // 👍
  '\u{1F44E}', // 👎
  '\u2764\uFE0F', // ❤️
  '\u{1F389}', // 🎉
  '\u{1F604}', // 😄
  '\u{1F615}', // 😕
  '\u{1F914}', // 🤔
  '\u{1F4A1}', // 💡
  '\u{1F440}', // 👀
  '\u2705' // ✅
] as const;
/** How many different emoji one user may put on one message (`MAX_REACTIONS`). */
export const MAX_REACTIONS = 5;
/** The longest note a feedback may carry, in characters (`MAX_FEEDBACK_NOTE`). */
export const MAX_FEEDBACK_NOTE = 1000;

// A Record rather than a list: a frame type added to the Python protocol fails to compile
// here until the panel says whether it reads it.
const SERVER_FRAME_TYPES: Record<ServerFrame['type'], true> = {
  auth_ok: true,
  chat_created: true,
  chat_updated: true,
  chat_deleted: true,
  message: true,
  message_delta: true,
  typing: true,
  messages: true,
  error: true,
  library: true,
  reaction: true,
  feedback: true
};
const SERVER_TYPES: ReadonlySet<string> = new Set(Object.keys(SERVER_FRAME_TYPES));

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
