/** What the reducer tests build their states, frames and records from. */
import type { Chat, ChatEventData, Document, Message, ServerFrame } from '../../protocol';
import { type Action, initialState, messagesOf, reduce, type State } from '../../reducer';

export function run(state: State, ...actions: Action[]): State {
  return actions.reduce(reduce, state);
}

export function frame(f: ServerFrame): Action {
  return { type: 'frame', frame: f };
}

/** A frame with fewer fields than the protocol declares, as the seed contract's servers send. */
export function sparseFrame(f: { type: ServerFrame['type']; data: object }): Action {
  return { type: 'frame', frame: f as unknown as ServerFrame };
}

export function msg(
  id: string,
  timestamp: string,
  extra: Partial<Message> = {}
): Message {
  return {
    id,
    role: 'user',
    content: id,
    citations: [],
    timestamp,
    chat_id: 'c1',
    status: 'complete',
    ...extra
  };
}

export function echo(m: Message, chatId = 'c1'): Action {
  return frame({ type: 'message', data: { message: m, user_id: 'u', chat_id: chatId } });
}

export function chat(id: string, updated: string): Chat {
  return {
    id,
    title: id,
    created_at: updated,
    updated_at: updated,
    message_count: 0,
    scope: null,
    unread: 0,
    read_up_to: null
  };
}

/** What `chat_created` and `chat_updated` carry: the whole chat and its `chat_id`. */
export function chatEvent(id: string, changes: Partial<Chat> = {}): ChatEventData {
  return { ...chat(id, '2024-01-01T00:00:00Z'), ...changes, chat_id: id };
}

export function documentRecord(id: string, changes: Partial<Document> = {}): Document {
  return {
    id,
    path: `notes/${id}.pdf`,
    filename: `${id}.pdf`,
    kind: 'pdf',
    status: 'indexing',
    error: null,
    progress: 0,
    pages: 0,
    chunks: 0,
    size: 10,
    sha256: id,
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    vectors: 'off',
    vectors_progress: 0,
    library: 'personal',
    ...changes
  };
}

export function ids(state: State, chatKey: string): string[] {
  return messagesOf(state, chatKey).map(m => m.id);
}

export const connected = (): State => reduce(initialState(), { type: 'connection/opened' });
