/**
 * REST calls to `{base_url}studymate/api/…` through JupyterLab's `ServerConnection`, which
 * adds the base URL, the token or XSRF cookie, as for any Jupyter API.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type {
  AssistantInfo,
  Chat,
  ChatPatch,
  Document,
  Library,
  Me,
  MessageSearchPage,
  MessagesPage,
  NewChat,
  NewDocument,
  Passage,
  RetrievalInfo
} from './protocol';

/** An error answered by the StudyMate API (`{"code", "message"}`) or the network. */
export class StudyMateError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message);
    this.name = 'StudyMateError';
  }
}

export class StudyMateAPI {
  constructor(settings?: ServerConnection.ISettings) {
    this.settings = settings ?? ServerConnection.makeSettings();
  }

  readonly settings: ServerConnection.ISettings;

  /** The URL of an API path (also used for downloads). */
  url(path: string): string {
    return URLExt.join(this.settings.baseUrl, 'studymate/api', path);
  }

  /** The URL the server serves a file of its root at (`files/…`, each part encoded). */
  fileUrl(path: string): string {
    return URLExt.join(this.settings.baseUrl, 'files', URLExt.encodeParts(path));
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(this.url(path), init, this.settings);
    } catch (reason) {
      throw new StudyMateError(0, 'unavailable', `The server cannot be reached: ${reason}`);
    }
    if (!response.ok) {
      let code = 'unavailable';
      let message = response.statusText || `HTTP ${response.status}`;
      try {
        const body = await response.json();
        code = typeof body.code === 'string' ? body.code : code;
        message = typeof body.message === 'string' ? body.message : message;
      } catch {
        // Not a JSON error body (a proxy's page, say): keep the status text.
      }
      throw new StudyMateError(response.status, code, message);
    }
    return response;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.request(path, init);
    if (response.status === 204) {
      return undefined as T;
    }
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  me(): Promise<Me> {
    return this.json<Me>('me');
  }

  async chats(): Promise<Chat[]> {
    return (await this.json<{ chats: Chat[] }>('chats')).chats;
  }

  /** A new chat, limited to part of the library from the start when `scope` says so. */
  createChat(options: NewChat = {}): Promise<Chat> {
    return this.json<Chat>('chats', { method: 'POST', body: JSON.stringify(options) });
  }

  /** Rename a chat and/or limit it to part of the library (`scope: null`: all of it again). */
  updateChat(chatId: string, changes: ChatPatch): Promise<Chat> {
    return this.json<Chat>(`chats/${encodeURIComponent(chatId)}`, {
      method: 'PATCH',
      body: JSON.stringify(changes)
    });
  }

  async deleteChat(chatId: string): Promise<void> {
    await this.request(`chats/${encodeURIComponent(chatId)}`, { method: 'DELETE' });
  }

  messages(
    chatId: string,
    options: { before?: string; limit?: number } = {}
  ): Promise<MessagesPage> {
    const query = URLExt.objectToQueryString({
      ...(options.before ? { before: options.before } : {}),
      ...(options.limit ? { limit: String(options.limit) } : {})
    });
    return this.json(`chats/${encodeURIComponent(chatId)}/messages${query}`);
  }

  /**
   * The user's own messages with every word of `query` (the last also as a prefix), newest
   * first; `chatId` narrows it to one chat.
   */
  searchMessages(
    query: string,
    options: { chatId?: string; limit?: number } = {}
  ): Promise<MessageSearchPage> {
    const params = URLExt.objectToQueryString({
      q: query,
      ...(options.chatId ? { chat_id: options.chatId } : {}),
      ...(options.limit ? { limit: String(options.limit) } : {})
    });
    return this.json<MessageSearchPage>(`messages/search${params}`);
  }

  async exportChat(chatId: string, format: 'markdown' | 'ipynb'): Promise<string> {
    const response = await this.request(
      `chats/${encodeURIComponent(chatId)}/export?format=${format}`
    );
    return response.text();
  }

  async documents(): Promise<Document[]> {
    return (await this.json<{ documents: Document[] }>('documents')).documents;
  }

  document(documentId: string): Promise<Document> {
    return this.json<Document>(`documents/${encodeURIComponent(documentId)}`);
  }

  /** Add (or re-index) a file: to the user's own library, or the course's (instructors). */
  addDocument(path: string, library: Library = 'personal'): Promise<Document> {
    const body: NewDocument = library === 'course' ? { path, library } : { path };
    return this.json<Document>('documents', { method: 'POST', body: JSON.stringify(body) });
  }

  async removeDocument(documentId: string): Promise<void> {
    await this.request(`documents/${encodeURIComponent(documentId)}`, { method: 'DELETE' });
  }

  /** How the library ranks passages, and a notice when a signal is missing. */
  retrieval(): Promise<RetrievalInfo> {
    return this.json<RetrievalInfo>('retrieval');
  }

  /** Who answers (the assistant and its model) and whether it can now. */
  assistant(): Promise<AssistantInfo> {
    return this.json<AssistantInfo>('assistant');
  }

  chunk(documentId: string, chunkId: string): Promise<Passage> {
    return this.json<Passage>(
      `documents/${encodeURIComponent(documentId)}/chunks/${encodeURIComponent(chunkId)}`
    );
  }
}
