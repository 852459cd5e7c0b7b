/**
 * The panel's store: holds the reducer's state, owns the connection, and turns user actions
 * into frames and REST calls. The React views read `state` and call these methods.
 */
import { UUID } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { StudyMateAPI, StudyMateError } from './api';
import { ChatConnection } from './connection';
import { isLibraryFile, LIBRARY_SUFFIXES } from './files';
import { chatTitle } from './format';
import type {
  ChatScope,
  Document,
  Library,
  MessageSearchPage,
  Passage,
  Rating,
  ServerFrame
} from './protocol';
import {
  Action,
  DRAFT_PREFIX,
  draftsToCreate,
  dueMessages,
  endsReplyInError,
  focusStep,
  initialState,
  isBlankDraft,
  isDraft,
  messagesOf,
  OutboxEntry,
  readToSend,
  reduce,
  State
} from './reducer';

/** After this long without input, "stopped typing" is sent. */
const TYPING_IDLE_MS = 1000;
/** How many messages to reload on reconnect (the contract's default page is 50). */
const RELOAD_LIMIT = 100;
/**
 * `read` goes once the newest message has stayed on screen this long, debounced as typing
 * is: a reply that streams past, or a chat flicked through, is not taken as read.
 */
const READ_DELAY_MS = 1000;

export class StudyMateModel implements IDisposable {
  constructor(api?: StudyMateAPI) {
    this.api = api ?? new StudyMateAPI();
    this._connection = new ChatConnection({
      settings: this.api.settings,
      onFrame: frame => this._onFrame(frame),
      onOpen: () => this._onOpen(),
      onClose: state => this.dispatch({ type: 'connection/closed', state })
    });
    // The panel opens on a new chat, ready for a question; the chat list is a click away.
    this.newChat();
  }

  readonly api: StudyMateAPI;

  get state(): State {
    return this._state;
  }

  /** Emitted after every state change. */
  get changed(): ISignal<this, State> {
    return this._changed;
  }

  /** A passing notice for the user (an action failed). */
  get notice(): ISignal<this, string> {
    return this._notice;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  start(): void {
    this._connection.start();
    void this.refreshChats();
    void this.refreshDocuments();
    void this.refreshMe();
    void this.refreshRetrieval();
    void this.refreshAssistant();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._clearTypingTimer();
    this._clearReadTimer();
    this._connection.dispose();
    Signal.clearData(this);
  }

  dispatch(action: Action): void {
    const next = reduce(this._state, action);
    if (next === this._state) {
      return;
    }
    this._state = next;
    this._changed.emit(next);
    this._considerRead();
  }

  // -------------------------------------------------------------------------
  // Chats

  async refreshChats(): Promise<void> {
    try {
      const since = this._state.seq;
      this.dispatch({ type: 'chats/loaded', chats: await this.api.chats(), since });
    } catch (reason) {
      this._report('Cannot load the chats', reason);
      return;
    }
    this._chatsLoaded = true;
    this._restore();
  }

  /**
   * Reopen the chat the user was in last time, once the chat list has it: only while the
   * panel still shows the new chat it opened on, untouched. A chat that is gone is forgotten
   * (the new chat stays).
   */
  restoreChat(chatId: string): void {
    this._restoring = chatId;
    if (this._chatsLoaded) {
      this._restore();
    }
  }

  /** Show a chat (or the list, for `null`) and subscribe to it. */
  openChat(chatKey: string | null): void {
    this._stopTyping();
    const previous = this._state.activeChat;
    if (this._state.focus && this._state.focus.chatId !== chatKey) {
      this.dispatch({ type: 'focus/cleared' });
    }
    this.dispatch({ type: 'chat/open', chatKey });
    const active = this._state.activeChat;
    if (
      previous &&
      previous !== active &&
      !isDraft(previous) &&
      !this._state.outbox.some(e => e.chatKey === previous)
    ) {
      // Nothing on screen needs that chat's frames any more (unless a queued message still
      // waits for its echo); coming back reloads it.
      this._connection.send({ type: 'unsubscribe', data: { chat_id: previous } });
    }
    if (active && !isDraft(active)) {
      this._connection.send({ type: 'load_messages', data: { chat_id: active } });
    }
  }

  /**
   * Open a chat at one of its messages (a search result): its history is paged back until
   * the message is there, and the view scrolls to it and highlights it.
   */
  openMessage(chatId: string, messageId: string): void {
    this._focusAsked = null;
    this.dispatch({ type: 'focus/set', chatId, messageId });
    if (this._state.activeChat !== chatId) {
      this.openChat(chatId);
    }
    this._pageTowardFocus();
  }

  /** The view has shown the message it was to bring into view. */
  focusShown(): void {
    this.dispatch({ type: 'focus/cleared' });
  }

  /** Start a chat that exists here only until its first message creates it on the server. */
  newChat(): void {
    this.openChat(`${DRAFT_PREFIX}${UUID.uuid4()}`);
  }

  async renameChat(chatId: string, title: string): Promise<void> {
    try {
      this.dispatch({ type: 'chat/upserted', chat: await this.api.updateChat(chatId, { title }) });
    } catch (reason) {
      this._report('Cannot rename the chat', reason);
    }
  }

  /**
   * Set the part of the library a chat draws on (`null`: all of it). The answer updates the
   * panel at once; the `chat_updated` frame that follows updates the user's other tabs.
   * A new chat keeps it until its first question creates the chat with it.
   * Returns whether it was saved (a failure is reported as a notice).
   */
  async setChatScope(chatKey: string, scope: ChatScope | null): Promise<boolean> {
    if (isDraft(chatKey)) {
      this.dispatch({ type: 'draft/scoped', chatKey, scope });
      return true;
    }
    try {
      this.dispatch({ type: 'chat/upserted', chat: await this.api.updateChat(chatKey, { scope }) });
      return true;
    } catch (reason) {
      this._report('Cannot change what the chat draws on', reason);
      return false;
    }
  }

  async deleteChat(chatId: string): Promise<void> {
    try {
      await this.api.deleteChat(chatId);
      this.dispatch({ type: 'chat/removed', chatId });
    } catch (reason) {
      this._report('Cannot delete the chat', reason);
    }
  }

  /** Ask for the page before the oldest message shown. */
  loadOlder(): void {
    const chatId = this._state.activeChat;
    if (!chatId || isDraft(chatId)) {
      return;
    }
    const oldest = messagesOf(this._state, chatId).find(m => !m.pending);
    this._connection.send({
      type: 'load_messages',
      data: { chat_id: chatId, ...(oldest ? { before: oldest.id } : {}) }
    });
  }

  // -------------------------------------------------------------------------
  // Messages

  /** Send (or queue, while offline) a message in the chat on screen. */
  send(content: string): void {
    const text = content.trim();
    if (!text) {
      return;
    }
    if (this._state.activeChat === null) {
      this.newChat();
    }
    this._stopTyping();
    this.dispatch({
      type: 'send',
      id: UUID.uuid4(),
      chatKey: this._state.activeChat!,
      content: text,
      timestamp: new Date().toISOString()
    });
    this._flush();
  }

  /** Resend a refused message, or ask again the question an errored reply answered. */
  retry(messageId: string): void {
    const list = messagesOf(this._state, this._state.activeChat);
    const index = list.findIndex(m => m.id === messageId);
    if (index < 0) {
      return;
    }
    const message = list[index];
    if (message.role === 'user') {
      this.dispatch({ type: 'retry', id: messageId });
      this._flush();
      return;
    }
    // The server answers a resent id with the stored copy and no new reply: ask anew. The
    // question is the one the reply names (`reply_to`), else the user message before it.
    const question =
      list.find(m => m.role === 'user' && m.id === message.reply_to) ??
      list
        .slice(0, index)
        .reverse()
        .find(m => m.role === 'user');
    if (question) {
      this.send(question.content);
    }
  }

  stop(): void {
    const chatId = this._state.activeChat;
    if (chatId && !isDraft(chatId)) {
      this._connection.send({ type: 'stop', data: { chat_id: chatId } });
    }
  }

  /** Call on every keystroke: sends `typing: true`, then `false` after a second idle. */
  userTyping(): void {
    const chatId = this._state.activeChat;
    if (!chatId || isDraft(chatId)) {
      return;
    }
    if (this._typingChat !== chatId) {
      this._stopTyping();
      this._typingChat = chatId;
      this._connection.send({ type: 'typing', data: { chat_id: chatId, is_typing: true } });
    }
    this._clearTypingTimer();
    this._typingTimer = window.setTimeout(() => this._stopTyping(), TYPING_IDLE_MS);
  }

  /** Put `emoji` on a message (`on`), or take it off; the `reaction` frame updates every tab. */
  react(chatId: string, messageId: string, emoji: string, on: boolean): void {
    const data = { chat_id: chatId, message_id: messageId, emoji, on };
    if (!this._connection.send({ type: 'react', data })) {
      this._notice.emit('Not connected: the reaction was not sent. Try again once connected.');
    }
  }

  /** Rate an answer (`null` takes the rating back), with an optional note. */
  rate(chatId: string, messageId: string, rating: Rating | null, note?: string): void {
    const data = {
      chat_id: chatId,
      message_id: messageId,
      rating,
      ...(note !== undefined ? { note } : {})
    };
    if (!this._connection.send({ type: 'feedback', data })) {
      this._notice.emit('Not connected: the feedback was not sent. Try again once connected.');
    }
  }

  /**
   * Whether the panel is shown and the browser tab visible: only then is anything on screen
   * taken as read.
   */
  setVisible(visible: boolean): void {
    if (this._visible !== visible) {
      this._visible = visible;
      this._considerRead();
    }
  }

  /**
   * The view reports the newest settled message of a chat on screen (`messageId`) or no
   * longer so (`null`).
   */
  seen(chatId: string, messageId: string | null): void {
    const same = this._seen?.chatId === chatId && this._seen.messageId === messageId;
    if (!same) {
      this._seen = messageId === null ? null : { chatId, messageId };
      this._considerRead();
    }
  }

  /** Search the user's messages (the search box above the chat list). */
  searchMessages(query: string): Promise<MessageSearchPage> {
    return this.api.searchMessages(query);
  }

  /** Tell the user something in the panel's passing notice. */
  notify(text: string): void {
    this._notice.emit(text);
  }

  dismissError(): void {
    this.dispatch({ type: 'error/dismissed' });
  }

  reconnectNow(): void {
    this._connection.reconnectNow();
  }

  // -------------------------------------------------------------------------
  // Library

  async refreshDocuments(): Promise<void> {
    try {
      this.dispatch({ type: 'documents/loaded', documents: await this.api.documents() });
    } catch (reason) {
      // The library may not be there (yet): the chat works without it.
      console.debug('StudyMate: no library', reason);
    }
  }

  /** Ask who the user is: an instructor gets the controls that change the course library. */
  async refreshMe(): Promise<void> {
    try {
      this.dispatch({ type: 'me/loaded', me: await this.api.me() });
    } catch (reason) {
      // Nobody is an instructor until the server says so: the panel offers only what works.
      console.debug('StudyMate: who the user is is not known', reason);
    }
  }

  /** Ask how the library ranks passages, for the notice the Library tab shows. */
  async refreshRetrieval(): Promise<void> {
    try {
      this.dispatch({ type: 'retrieval/loaded', info: await this.api.retrieval() });
    } catch (reason) {
      // An older server has no such endpoint: there is simply nothing to tell.
      console.debug('StudyMate: no retrieval info', reason);
    }
  }

  // -------------------------------------------------------------------------
  // Assistant

  /**
   * Ask who answers and whether it can now. Only the newest question's answer is kept: an
   * older one, slower to come, must not hide the warning a failed reply just brought.
   */
  async refreshAssistant(): Promise<void> {
    const asked = ++this._assistantAsked;
    try {
      const info = await this.api.assistant();
      if (asked === this._assistantAsked) {
        this.dispatch({ type: 'assistant/loaded', info });
      }
    } catch (reason) {
      // An older server has no such endpoint: the chat simply does not say who answers.
      console.debug('StudyMate: no assistant info', reason);
    }
  }

  /** The user has read the retrieval notice: it is not shown again (until it changes). */
  dismissRetrievalNotice(): void {
    this.dispatch({ type: 'retrieval/dismissed' });
  }

  /**
   * Add (or re-index: the server ingests a path again when it is posted again) a file, to
   * the user's own library or the course's. `added`: the user is adding it now (the panel
   * lists it with its progress until the chat has a question). A refusal (a student adding
   * to the course: 403 forbidden) is reported with the server's reason.
   */
  async addDocument(
    path: string,
    added = false,
    library: Library = 'personal'
  ): Promise<Document | null> {
    try {
      const document = await this.api.addDocument(path, library);
      this.dispatch({ type: 'document/upserted', document, added });
      return document;
    } catch (reason) {
      const where = library === 'course' ? 'the course library' : 'the library';
      this._report(`Cannot add ${path} to ${where}`, reason);
      return null;
    }
  }

  /**
   * Add the files the user chose (a picker, a drop, the file browser's menu), one after the
   * other, to `library`; what the library cannot take is named in one notice. Returns those
   * accepted.
   */
  async addDocuments(paths: string[], library: Library = 'personal'): Promise<Document[]> {
    const skipped = paths.filter(p => !isLibraryFile(p));
    if (skipped.length) {
      const names = skipped.map(p => p.split('/').pop() || p).join(', ');
      this._notice.emit(
        `Not added: ${names}. The library takes PDFs, Markdown, text files and notebooks ` +
          `(${LIBRARY_SUFFIXES.join(' ')}).`
      );
    }
    const accepted: Document[] = [];
    for (const path of paths.filter(isLibraryFile)) {
      const document = await this.addDocument(path, true, library);
      if (document) {
        accepted.push(document);
      }
    }
    return accepted;
  }

  async removeDocument(documentId: string): Promise<void> {
    try {
      await this.api.removeDocument(documentId);
      this.dispatch({ type: 'document/removed', documentId });
    } catch (reason) {
      this._report('Cannot remove the document', reason);
    }
  }

  /** The passage behind a citation, fetched once. */
  chunk(documentId: string, chunkId: string): Promise<Passage> {
    const key = `${documentId}/${chunkId}`;
    let pending = this._chunks.get(key);
    if (!pending) {
      pending = this.api.chunk(documentId, chunkId);
      pending.catch(() => this._chunks.delete(key));
      this._chunks.set(key, pending);
    }
    return pending;
  }

  /** A library document, from the list when it is there. */
  async document(documentId: string): Promise<Document> {
    const known = this._state.documents.find(d => d.id === documentId);
    return known ?? this.api.document(documentId);
  }

  // -------------------------------------------------------------------------

  private _onOpen(): void {
    this.dispatch({ type: 'connection/opened' });
    const active = this._state.activeChat;
    const chatId = active && !isDraft(active) ? active : undefined;
    this._connection.send({ type: 'auth', data: chatId ? { chat_id: chatId } : {} });
    if (chatId) {
      // Whatever was said while we were away: the server's newest page, merged by id.
      this._connection.send({
        type: 'load_messages',
        data: { chat_id: chatId, limit: RELOAD_LIMIT }
      });
    }
    this._flush();
    void this.refreshChats();
    void this.refreshDocuments();
    // The server may have restarted with other instructors,
    void this.refreshMe();
    // or with another retriever (or the missing weights added),
    void this.refreshRetrieval();
    // or with another model, or its model server may be back (or gone).
    void this.refreshAssistant();
  }

  private _onFrame(frame: ServerFrame): void {
    this.dispatch({ type: 'frame', frame });
    if (endsReplyInError(frame)) {
      // Perhaps the model server went away: the chat says so, not only this reply.
      void this.refreshAssistant();
    }
    if (frame.type === 'message' || frame.type === 'messages') {
      // An echo may name the chat that later queued messages were waiting for.
      this._flush();
    }
    if (frame.type === 'messages') {
      this._pageTowardFocus();
    }
  }

  /** Ask for older pages of the open chat until the message to show is loaded. */
  private _pageTowardFocus(): void {
    const focus = this._state.focus;
    if (!focus || focus.chatId !== this._state.activeChat) {
      return;
    }
    const step = focusStep(this._state, focus.chatId, focus.messageId);
    if (step.step === 'older' && step.before !== this._focusAsked) {
      this._focusAsked = step.before;
      this._connection.send({
        type: 'load_messages',
        data: { chat_id: focus.chatId, before: step.before, limit: RELOAD_LIMIT }
      });
    } else if (step.step === 'missing') {
      this.dispatch({ type: 'focus/cleared' });
      this._notice.emit('That message is no longer in the chat.');
    }
  }

  /** The message to say the open chat is read up to now, if any (see `readToSend`). */
  private _readCandidate(): { chatId: string; messageId: string } | null {
    const chatId = this._state.activeChat;
    if (!chatId || isDraft(chatId) || this._state.connection !== 'connected') {
      return null;
    }
    const messageId = readToSend({
      chat: this._state.chats.find(c => c.id === chatId),
      messages: messagesOf(this._state, chatId),
      seen: this._seen?.chatId === chatId ? this._seen.messageId : null,
      visible: this._visible,
      sent: this._readSent.get(chatId) ?? null
    });
    return messageId === null ? null : { chatId, messageId };
  }

  /** (Re)start the wait before `read`: it goes when the same message is due a second later. */
  private _considerRead(): void {
    if (this._disposed) {
      return;
    }
    const due = this._readCandidate();
    const waiting = this._readWaiting;
    if (due && waiting && due.chatId === waiting.chatId && due.messageId === waiting.messageId) {
      return;
    }
    this._clearReadTimer();
    if (!due) {
      return;
    }
    this._readWaiting = due;
    this._readTimer = setTimeout(() => {
      this._readTimer = null;
      this._readWaiting = null;
      const now = this._readCandidate();
      if (!now || now.chatId !== due.chatId || now.messageId !== due.messageId) {
        this._considerRead();
        return;
      }
      const data = { chat_id: due.chatId, message_id: due.messageId };
      if (this._connection.send({ type: 'read', data })) {
        this._readSent.set(due.chatId, due.messageId);
      }
    }, READ_DELAY_MS);
  }

  private _clearReadTimer(): void {
    if (this._readTimer !== null) {
      clearTimeout(this._readTimer);
      this._readTimer = null;
    }
    this._readWaiting = null;
  }

  /** Send every queued message that is due on this connection, in order. */
  private _flush(): void {
    for (const entry of draftsToCreate(this._state)) {
      void this._createChat(entry);
    }
    const due = dueMessages(this._state);
    const sent: string[] = [];
    for (const entry of due) {
      const ok = this._connection.send({
        type: 'message',
        data: {
          message: { id: entry.id, role: 'user', content: entry.content },
          ...(isDraft(entry.chatKey) ? {} : { chat_id: entry.chatKey })
        }
      });
      if (!ok) {
        break;
      }
      sent.push(entry.id);
    }
    if (sent.length) {
      this.dispatch({ type: 'outbox/sent', ids: sent, epoch: this._state.epoch });
    }
  }

  /**
   * Create a limited draft's chat (once at a time), so that its queued messages can name it.
   * On failure they are marked failed, as a refused message is: Retry tries again.
   */
  private async _createChat(first: OutboxEntry): Promise<void> {
    const draftKey = first.chatKey;
    if (this._creating.has(draftKey)) {
      return;
    }
    this._creating.add(draftKey);
    try {
      const chat = await this.api.createChat({
        title: chatTitle(first.content),
        scope: this._state.draftScopes[draftKey]
      });
      this.dispatch({ type: 'draft/created', chatKey: draftKey, chat });
    } catch (reason) {
      const detail = this._report('Cannot create the chat', reason);
      this.dispatch({ type: 'draft/failed', chatKey: draftKey, reason: detail });
    } finally {
      this._creating.delete(draftKey);
    }
    this._flush();
  }

  private _restore(): void {
    const chatId = this._restoring;
    this._restoring = null;
    const active = this._state.activeChat;
    if (
      chatId &&
      isBlankDraft(this._state, active) &&
      this._state.chats.some(c => c.id === chatId)
    ) {
      this.openChat(chatId);
    }
  }

  private _stopTyping(): void {
    this._clearTypingTimer();
    if (this._typingChat) {
      this._connection.send({
        type: 'typing',
        data: { chat_id: this._typingChat, is_typing: false }
      });
      this._typingChat = null;
    }
  }

  private _clearTypingTimer(): void {
    if (this._typingTimer !== null) {
      window.clearTimeout(this._typingTimer);
      this._typingTimer = null;
    }
  }

  /** Tell the user an action failed; returns the reason as told. */
  private _report(what: string, reason: unknown): string {
    const detail =
      reason instanceof StudyMateError ? reason.message : String(reason ?? 'unknown error');
    console.warn(`StudyMate: ${what}`, reason);
    this._notice.emit(`${what}: ${detail}`);
    return detail;
  }

  private _state: State = initialState();
  private _changed = new Signal<this, State>(this);
  private _notice = new Signal<this, string>(this);
  private _connection: ChatConnection;
  private _chunks = new Map<string, Promise<Passage>>();
  /** The chat to reopen when the chat list arrives (see `restoreChat`). */
  private _restoring: string | null = null;
  private _chatsLoaded = false;
  /** How many times the assistant info was asked for (see `refreshAssistant`). */
  private _assistantAsked = 0;
  /** Drafts whose `POST chats` is on its way. */
  private _creating = new Set<string>();
  private _typingChat: string | null = null;
  private _typingTimer: number | null = null;
  /** Whether the panel is shown in a visible browser tab (see `setVisible`). */
  private _visible = false;
  /** The newest settled message the view has on screen (see `seen`). */
  private _seen: { chatId: string; messageId: string } | null = null;
  /** Per chat, the message `read` was last sent for by this panel. */
  private _readSent = new Map<string, string>();
  /** The `read` waiting for its delay, and its timer. */
  private _readWaiting: { chatId: string; messageId: string } | null = null;
  private _readTimer: ReturnType<typeof setTimeout> | null = null;
  /** The `before` of the last page asked for on the way to a message to show. */
  private _focusAsked: string | null = null;
  private _disposed = false;
}
