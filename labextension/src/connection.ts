/**
 * The WebSocket to `{base_url}ws/chat`, kept open: reconnects with backoff and reports
 * connected / reconnecting / offline. Frames in and out are the types of `protocol.ts`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';

import { backoffDelay, DEFAULT_BACKOFF, IBackoffOptions, OFFLINE_AFTER_ATTEMPTS } from './backoff';
import { ClientFrame, parseServerFrame, ServerFrame } from './protocol';

export interface IChatConnectionOptions {
  settings?: ServerConnection.ISettings;
  onFrame: (frame: ServerFrame) => void;
  onOpen: () => void;
  onClose: (state: 'reconnecting' | 'offline') => void;
  backoff?: IBackoffOptions;
}

/** The chat socket's URL under the server's base URL; `?token=` where there is a token. */
export function chatSocketUrl(settings: ServerConnection.ISettings): string {
  const url = URLExt.join(settings.wsUrl, 'ws/chat');
  return settings.token ? `${url}?token=${encodeURIComponent(settings.token)}` : url;
}

export class ChatConnection implements IDisposable {
  constructor(options: IChatConnectionOptions) {
    this._settings = options.settings ?? ServerConnection.makeSettings();
    this._options = options;
    this._backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  get isOpen(): boolean {
    return this._socket?.readyState === WebSocket.OPEN;
  }

  /** Open the socket (once); it is reopened after every close until disposed. */
  start(): void {
    if (this._started) {
      return;
    }
    this._started = true;
    window.addEventListener('online', this._onOnline);
    this._connect();
  }

  /** Send a frame; `false` when there is no open socket (the caller queues). */
  send(frame: ClientFrame): boolean {
    if (!this._socket || this._socket.readyState !== WebSocket.OPEN) {
      return false;
    }
    this._socket.send(JSON.stringify(frame));
    return true;
  }

  /** Skip the remaining backoff and try now (the browser came back online, or the user asked). */
  reconnectNow(): void {
    if (this._disposed || this.isOpen || this._connecting) {
      return;
    }
    this._clearTimer();
    this._connect();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    window.removeEventListener('online', this._onOnline);
    this._clearTimer();
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onopen = socket.onclose = socket.onmessage = socket.onerror = null;
      socket.close();
    }
  }

  private _connect(): void {
    if (this._disposed) {
      return;
    }
    this._connecting = true;
    let socket: WebSocket;
    try {
      socket = new this._settings.WebSocket(chatSocketUrl(this._settings));
    } catch (reason) {
      console.warn('StudyMate: cannot open the chat socket', reason);
      this._connecting = false;
      this._scheduleReconnect();
      return;
    }
    this._socket = socket;
    socket.onopen = () => {
      this._connecting = false;
      this._attempt = 0;
      this._options.onOpen();
    };
    socket.onmessage = event => {
      if (typeof event.data !== 'string') {
        return;
      }
      const frame = parseServerFrame(event.data);
      if (frame) {
        this._options.onFrame(frame);
      }
    };
    socket.onclose = () => {
      this._connecting = false;
      if (this._socket === socket) {
        this._socket = null;
      }
      if (!this._disposed) {
        this._scheduleReconnect();
      }
    };
    // An error is always followed by close, which does the reconnecting.
    socket.onerror = () => undefined;
  }

  private _scheduleReconnect(): void {
    const attempt = this._attempt++;
    const offline =
      attempt + 1 >= OFFLINE_AFTER_ATTEMPTS ||
      (typeof navigator !== 'undefined' && navigator.onLine === false);
    this._options.onClose(offline ? 'offline' : 'reconnecting');
    this._clearTimer();
    this._timer = window.setTimeout(() => {
      this._timer = null;
      this._connect();
    }, backoffDelay(attempt, this._backoff));
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _onOnline = (): void => {
    this._attempt = 0;
    this.reconnectNow();
  };

  private _settings: ServerConnection.ISettings;
  private _options: IChatConnectionOptions;
  private _backoff: IBackoffOptions;
  private _socket: WebSocket | null = null;
  private _timer: number | null = null;
  private _attempt = 0;
  private _started = false;
  private _connecting = false;
  private _disposed = false;
}
