"""The asyncio client for ``/ws/chat``: one connection that reconnects by itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from .backoff import Backoff
from .discovery import ServerInfo, resolve_server
from .errors import TRANSIENT_CODES, StudyMateError
from .outbox import Outbox, Outgoing
from .reply import Reply
from .rest import RestClient
from .signals import Signal
from .store import MessageStore, pair_replies
from .types import (
    AuthFrame,
    AuthOkData,
    Chat,
    ChatEventData,
    ChatScope,
    ClientFrame,
    ConnectionState,
    Document,
    ErrorData,
    LibraryEventData,
    LoadMessagesFrame,
    Me,
    Message,
    MessageEventData,
    MessagesData,
    MessagesPage,
    Passage,
    SearchResult,
    SendFrame,
    TypingEventData,
)

log = logging.getLogger("studymate_jupyter.client")

#: jupyter-server's own limit for a WebSocket message (10 MiB).
MAX_FRAME_BYTES = 10 * 1024 * 1024


def _consume_error(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


@dataclass
class _Request:
    """A frame that the server answers with one frame (``auth`` or ``load_messages``)."""

    kind: Literal["auth", "load_messages"]
    chat_id: str | None
    future: asyncio.Future[Any]


class StudyMateClient:
    """A chat client for one user: one current chat, its messages, an offline queue.

    Every observer (the ``on_*`` signals) is called on the loop the client runs on. The
    client is not thread-safe: from another thread, use :class:`ClientThread`.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        chat_id: str | None = None,
        server: ServerInfo | None = None,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_attempts: int | None = None,
        connect_timeout: float = 10.0,
        request_timeout: float = 30.0,
        history_limit: int = 100,
        resync_pages: int = 10,
    ) -> None:
        """``url``/``token`` name the server (else ``STUDYMATE_URL``/``STUDYMATE_TOKEN``,
        else the running Jupyter server is discovered); ``chat_id`` is the chat to open
        (``None``: the first message starts a new chat). ``max_attempts`` bounds the
        reconnect attempts in a row (``None``: forever); ``sleep`` and ``backoff`` are
        injectable for tests."""
        self._url = url
        self._token = token
        self._server = server
        self._rest: RestClient | None = RestClient(server) if server else None
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.history_limit = history_limit
        self.resync_pages = resync_pages

        self.on_state: Signal[ConnectionState] = Signal("state")
        self.on_message: Signal[Message] = Signal("message")
        self.on_history: Signal[str] = Signal("history")
        self.on_typing: Signal[TypingEventData] = Signal("typing")
        self.on_chat_changed: Signal[str | None] = Signal("chat_changed")
        self.on_chat_created: Signal[ChatEventData] = Signal("chat_created")
        self.on_chat_updated: Signal[ChatEventData] = Signal("chat_updated")
        self.on_chat_deleted: Signal[ChatEventData] = Signal("chat_deleted")
        self.on_library: Signal[LibraryEventData] = Signal("library")
        self.on_error: Signal[StudyMateError] = Signal("error")

        self.user_id: str | None = None
        self._state: ConnectionState = "offline"
        self._chat_id = chat_id
        self._new_chat = 0
        self._stores: dict[str, MessageStore] = {}
        self._outbox = Outbox()
        self._replies: dict[str, Reply] = {}
        self._reply_by_assistant: dict[str, Reply] = {}
        self._requests: deque[_Request] = deque()
        # Chats whose history is being reloaded: replies are not paired with questions there
        # until the store is whole again (a live reply may arrive before the history).
        self._syncing: set[str] = set()
        self._conn: WebSocketClientConnection | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._connected: asyncio.Event | None = None
        self._fatal: StudyMateError | None = None
        self._closing = False
        self._ever_connected = False

    # --- properties -----------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """``connecting`` (first connection), ``connected``, ``reconnecting`` or ``offline``."""
        return self._state

    @property
    def chat_id(self) -> str | None:
        """The current chat; ``None`` until the first message of a new chat is stored."""
        return self._chat_id

    @property
    def server(self) -> ServerInfo:
        if self._server is None:
            raise RuntimeError("the server is resolved by connect() or resolve()")
        return self._server

    @property
    def rest(self) -> RestClient:
        if self._rest is None:
            raise RuntimeError("the server is resolved by connect() or resolve()")
        return self._rest

    @property
    def messages(self) -> list[Message]:
        """The current chat's messages, oldest first (copies)."""
        return self.history(self._chat_id)

    def history(self, chat_id: str | None) -> list[Message]:
        """Copies of the messages this client holds of ``chat_id``, oldest first."""
        store = self._stores.get(chat_id) if chat_id else None
        return [m.copy() for m in store] if store else []

    @property
    def pending(self) -> list[Outgoing]:
        """Messages sent but not yet stored by the server, in sending order."""
        return list(self._outbox)

    # --- lifecycle ------------------------------------------------------------------------

    async def resolve(self) -> ServerInfo:
        """Find the server (arguments, environment, discovery) once."""
        if self._server is None:
            self._server = await resolve_server(self._url, self._token)
            self._rest = RestClient(self._server)
        return self._server

    async def start(self) -> None:
        """Resolve the server and start connecting in the background (returns at once)."""
        await self.resolve()
        if self._run_task is None or self._run_task.done():
            self._closing = False
            self._fatal = None
            self._connected = asyncio.Event()
            self._run_task = asyncio.ensure_future(self._run())

    async def connect(self, timeout: float | None = 30.0) -> None:
        """Start and wait until connected. Raises StudyMateError if the server refuses the
        credentials, TimeoutError if not connected in time (it keeps trying meanwhile)."""
        await self.start()
        await self.wait_connected(timeout)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the client is connected (again)."""
        if self._run_task is None or self._connected is None:
            raise RuntimeError("call start() or connect() first")
        connected = asyncio.ensure_future(self._connected.wait())
        try:
            done, _ = await asyncio.wait(
                {connected, self._run_task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            connected.cancel()
        if self._fatal is not None:
            raise self._fatal
        if connected not in done:
            if self._run_task in done:
                raise StudyMateError("unavailable", "the client stopped trying to connect")
            raise TimeoutError(f"not connected to {self.server.base_url} in {timeout} s")

    async def close(self) -> None:
        """Disconnect and stop reconnecting; pending replies fail with ``unavailable``."""
        self._closing = True
        if self._conn is not None:
            self._conn.close()
        if self._run_task is not None:
            self._run_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._run_task
            self._run_task = None
        self._fail_requests(StudyMateError("unavailable", "client closed"))
        for reply in list(self._replies.values()):
            reply._fail(StudyMateError("unavailable", "client closed", ref=reply.message_id))
        self._replies.clear()
        self._reply_by_assistant.clear()
        self._set_state("offline")

    async def __aenter__(self) -> StudyMateClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- chats ----------------------------------------------------------------------------

    def new_chat(self) -> None:
        """Make the next message start a new chat."""
        self._new_chat += 1
        self._set_chat(None)

    async def open_chat(self, chat_id: str) -> list[Message]:
        """Make ``chat_id`` the current chat, subscribe to it and load its newest history."""
        self._set_chat(chat_id)
        if self._state == "connected":
            self._syncing.add(chat_id)
            try:
                await self._request("auth", chat_id, self._auth_frame(chat_id))
                await self._resync(chat_id)
            except StudyMateError as exc:
                if exc.code == "not_found":
                    # Not ours or gone: do not keep it as the current chat.
                    self._forget_chat(chat_id)
                raise
            finally:
                self._syncing.discard(chat_id)
        return self.messages

    async def load_messages(
        self, chat_id: str | None = None, *, before: str | None = None, limit: int | None = None
    ) -> MessagesPage:
        """Load a page of history over the WebSocket and merge it into the store.

        Without ``before``: the newest page; ``before`` (a message id) pages further back.
        """
        chat = chat_id or self._chat_id
        if chat is None:
            raise StudyMateError("bad_request", "no chat to load")
        page = await self._load(chat, before, limit)
        store = self._stores.setdefault(chat, MessageStore())
        if before is None:
            store.merge_window(page["messages"], complete=not page["has_more"])
        else:
            store.prepend(page["messages"])
        self.on_history.emit(chat)
        self._match_replies(chat, resynced=True)
        return page

    async def load_older(self, limit: int | None = None) -> MessagesPage:
        """The page before the oldest message held of the current chat."""
        store = self._stores.get(self._chat_id) if self._chat_id else None
        before = store.oldest_id if store else None
        return await self.load_messages(before=before, limit=limit)

    # --- sending --------------------------------------------------------------------------

    def post(self, text: str, *, message_id: str | None = None) -> Reply:
        """Queue ``text`` for the current chat and send it as soon as connected.

        Returns at once; await the Reply for the final assistant message. The message is
        delivered exactly once, even across reconnects (it is resent under the same id
        until the server echoes it).
        """
        message_id = message_id or str(uuid.uuid4())
        reply = Reply(message_id, text)
        item = Outgoing(
            id=message_id,
            content=text,
            chat_id=self._chat_id,
            new_chat=None if self._chat_id else self._new_chat,
        )
        self._outbox.push(item)
        reply.chat_id = self._chat_id
        self._replies[message_id] = reply
        self._flush()
        return reply

    async def send(self, text: str, *, timeout: float | None = None) -> Message:
        """Send ``text`` and return the assistant's final reply (``status`` complete,
        stopped or error) once it has streamed."""
        reply = self.post(text)
        # Shielded: a timeout gives up waiting, not the message (it stays queued).
        return await asyncio.wait_for(asyncio.shield(reply.done), timeout)

    async def stop(self, chat_id: str | None = None) -> None:
        """Stop the assistant's reply in progress in ``chat_id`` (default: the current chat)."""
        chat = chat_id or self._chat_id
        if chat is None:
            return
        if not self._write({"type": "stop", "data": {"chat_id": chat}}):
            raise StudyMateError("unavailable", "not connected")

    async def set_typing(self, is_typing: bool) -> bool:
        """Tell the other clients of the current chat whether this user is typing.

        Typing is transient: it is dropped (False returned) when offline or chatless."""
        if self._chat_id is None or self._state != "connected":
            return False
        return self._write(
            {"type": "typing", "data": {"chat_id": self._chat_id, "is_typing": is_typing}}
        )

    # --- REST -----------------------------------------------------------------------------

    async def me(self) -> Me:
        await self.resolve()
        return await self.rest.me()

    async def list_chats(self) -> list[Chat]:
        await self.resolve()
        return await self.rest.list_chats()

    async def create_chat(self, title: str | None = None, scope: ChatScope | None = None) -> Chat:
        """A new, empty chat; ``scope`` limits it to part of the library from the start."""
        await self.resolve()
        return await self.rest.create_chat(title, scope)

    async def rename_chat(self, chat_id: str, title: str) -> Chat:
        await self.resolve()
        return await self.rest.rename_chat(chat_id, title)

    async def set_scope(self, chat_id: str, scope: ChatScope | None) -> Chat:
        """Limit a chat to a folder or chosen documents; ``None``: the whole library again."""
        await self.resolve()
        return await self.rest.set_scope(chat_id, scope)

    async def delete_chat(self, chat_id: str) -> None:
        await self.resolve()
        await self.rest.delete_chat(chat_id)

    async def get_messages(
        self, chat_id: str, *, before: str | None = None, limit: int | None = None
    ) -> MessagesPage:
        await self.resolve()
        return await self.rest.get_messages(chat_id, before=before, limit=limit)

    async def export_chat(
        self, chat_id: str | None = None, format: Literal["markdown", "ipynb"] = "markdown"
    ) -> str:
        await self.resolve()
        return await self.rest.export_chat(self._chat_to_export(chat_id), format)

    def _chat_to_export(self, chat_id: str | None) -> str:
        chat = chat_id or self._chat_id
        if chat is None:
            raise StudyMateError("bad_request", "no chat to export")
        return chat

    async def list_documents(self) -> list[Document]:
        await self.resolve()
        return await self.rest.list_documents()

    async def add_document(self, path: str) -> Document:
        """Add a file (relative to the server's root_dir) to the library."""
        await self.resolve()
        return await self.rest.add_document(path)

    async def get_document(self, document_id: str) -> Document:
        await self.resolve()
        return await self.rest.get_document(document_id)

    async def delete_document(self, document_id: str) -> None:
        await self.resolve()
        await self.rest.delete_document(document_id)

    async def passage(self, document_id: str, chunk_id: str) -> Passage:
        """The cited passage behind a citation, for a preview."""
        await self.resolve()
        return await self.rest.passage(document_id, chunk_id)

    async def search(self, query: str, k: int | None = None) -> list[SearchResult]:
        await self.resolve()
        return await self.rest.search(query, k)

    # --- connection loop ------------------------------------------------------------------

    def _set_state(self, state: ConnectionState) -> None:
        if state != self._state:
            self._state = state
            if self._connected is not None:
                if state == "connected":
                    self._connected.set()
                else:
                    self._connected.clear()
            self.on_state.emit(state)

    def _set_chat(self, chat_id: str | None) -> None:
        if chat_id != self._chat_id:
            self._chat_id = chat_id
            self.on_chat_changed.emit(chat_id)

    async def _open(self) -> WebSocketClientConnection:
        headers = {"Authorization": f"token {self.server.token}"} if self.server.token else {}
        request = HTTPRequest(
            self.server.ws_url,
            headers=headers,
            connect_timeout=self.connect_timeout,
            request_timeout=self.connect_timeout,
        )
        try:
            return await websocket_connect(
                request,
                max_message_size=MAX_FRAME_BYTES,
                # Pings notice a server that vanished without closing the TCP connection.
                ping_interval=20,
                ping_timeout=20,
            )
        except HTTPClientError as exc:
            if exc.code in (401, 403):
                # Retrying cannot fix a wrong token.
                raise StudyMateError(
                    "forbidden", f"the server refused the token ({exc.code})", status=exc.code
                ) from exc
            raise

    async def _run(self) -> None:
        attempt = 0
        try:
            while not self._closing:
                self._set_state("reconnecting" if self._ever_connected or attempt else "connecting")
                try:
                    conn = await self._open()
                except StudyMateError as exc:
                    self._fatal = exc
                    self.on_error.emit(exc)
                    return
                except (OSError, HTTPClientError, StreamClosedError, asyncio.TimeoutError) as exc:
                    log.info("cannot connect to %s: %s", self.server.ws_url, exc)
                else:
                    if await self._session(conn):
                        attempt = 0
                if self._closing:
                    return
                if self.max_attempts is not None and attempt >= self.max_attempts:
                    self.on_error.emit(
                        StudyMateError("unavailable", f"gave up after {attempt + 1} attempts")
                    )
                    return
                self._set_state("reconnecting")
                delay = self.backoff.delay(attempt)
                attempt += 1
                await self._sleep(delay)
        finally:
            if not self._closing:
                self._set_state("offline")

    async def _session(self, conn: WebSocketClientConnection) -> bool:
        """Run one connection to its end; True if it got as far as ``connected``."""
        self._conn = conn
        reader = asyncio.ensure_future(self._read_loop(conn))
        connected = False
        try:
            await self._handshake()
            connected = True
            self._ever_connected = True
        except (StudyMateError, asyncio.TimeoutError) as exc:
            log.info("handshake with %s failed: %s", self.server.ws_url, exc)
            conn.close()
        try:
            await reader
        finally:
            if self._conn is conn:
                self._conn = None
            self._outbox.connection_lost()
        return connected

    async def _handshake(self) -> None:
        """Authenticate, resubscribe, reload what was missed, then flush the queue."""
        chat = self._chat_id
        self._syncing.update(self._chats_to_sync())
        try:
            ok: AuthOkData = await self._request("auth", chat, self._auth_frame(chat))
        except StudyMateError as exc:
            if exc.code != "not_found" or chat is None:
                raise
            # The chat is gone (deleted elsewhere while we were away).
            self.on_error.emit(exc)
            self._forget_chat(chat)
            ok = await self._request("auth", None, self._auth_frame(None))
        self.user_id = ok["user_id"]
        for chat_id in self._chats_to_sync():
            try:
                await self._resync(chat_id)
            except StudyMateError as exc:
                if exc.code != "not_found":
                    raise
                self.on_error.emit(exc)
                self._forget_chat(chat_id)
        self._set_state("connected")
        self._flush()

    @staticmethod
    def _auth_frame(chat_id: str | None) -> AuthFrame:
        frame: AuthFrame = {"type": "auth", "data": {}}
        if chat_id is not None:
            frame["data"]["chat_id"] = chat_id
        return frame

    def _chats_to_sync(self) -> list[str]:
        """The current chat and every chat a queued or unanswered message belongs to."""
        chats = [self._chat_id] if self._chat_id else []
        for reply in self._replies.values():
            if reply.chat_id and reply.chat_id not in chats:
                chats.append(reply.chat_id)
        return chats

    async def _resync(self, chat_id: str) -> None:
        """Reload the newest history, paging back until it meets what we already hold."""
        self._syncing.add(chat_id)
        try:
            store = self._stores.setdefault(chat_id, MessageStore())
            known = {m["id"] for m in store}
            window: list[Message] = []
            before: str | None = None
            complete = False
            for _ in range(self.resync_pages):
                page = await self._load(chat_id, before, self.history_limit)
                window = page["messages"] + window
                complete = not page["has_more"]
                if complete or not known or any(m["id"] in known for m in page["messages"]):
                    break
                if not page["messages"]:
                    break
                before = page["messages"][0]["id"]
            store.merge_window(window, complete=complete)
        finally:
            self._syncing.discard(chat_id)
        self.on_history.emit(chat_id)
        self._match_replies(chat_id, resynced=True)

    async def _load(self, chat_id: str, before: str | None, limit: int | None) -> MessagesPage:
        frame: LoadMessagesFrame = {"type": "load_messages", "data": {"chat_id": chat_id}}
        if before is not None:
            frame["data"]["before"] = before
        if limit is not None:
            frame["data"]["limit"] = limit
        data: MessagesData = await self._request("load_messages", chat_id, frame)
        for message in data["messages"]:
            message.setdefault("chat_id", chat_id)
        return {"messages": data["messages"], "has_more": data["has_more"]}

    async def _request(
        self, kind: Literal["auth", "load_messages"], chat_id: str | None, frame: ClientFrame
    ) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        request = _Request(kind, chat_id, future)
        self._requests.append(request)
        if not self._write(frame):
            self._requests.remove(request)
            raise StudyMateError("unavailable", "not connected")
        try:
            return await asyncio.wait_for(future, self.request_timeout)
        finally:
            if request in self._requests:
                self._requests.remove(request)

    def _fail_requests(self, error: StudyMateError) -> None:
        while self._requests:
            request = self._requests.popleft()
            if not request.future.done():
                request.future.set_exception(error)

    def _write(self, frame: ClientFrame) -> bool:
        if self._conn is None:
            return False
        log.debug("-> %.300s", frame)
        try:
            written = self._conn.write_message(json.dumps(frame))
        except (WebSocketClosedError, StreamClosedError):
            return False
        # A write that fails later means the connection is lost; the read loop notices that.
        written.add_done_callback(_consume_error)
        return True

    def _flush(self) -> None:
        """Send what the offline queue may send now, in order."""
        if self._state != "connected":
            return
        for item in self._outbox.take_sendable():
            frame: SendFrame = {
                "type": "message",
                "data": {"message": {"id": item.id, "role": "user", "content": item.content}},
            }
            if item.chat_id is not None:
                frame["data"]["chat_id"] = item.chat_id
            if not self._write(frame):
                # Lost: connection_lost() will mark everything for resending.
                return

    async def _read_loop(self, conn: WebSocketClientConnection) -> None:
        try:
            while True:
                raw = await conn.read_message()
                if raw is None:
                    return
                if isinstance(raw, bytes):
                    continue
                log.debug("<- %.500s", raw)
                try:
                    frame = json.loads(raw)
                except ValueError:
                    log.warning("ignoring a frame that is not JSON: %.200s", raw)
                    continue
                try:
                    self._dispatch(frame)
                except Exception:
                    log.exception("failed to handle frame %.200s", raw)
        finally:
            self._fail_requests(StudyMateError("unavailable", "connection lost"))

    # --- inbound frames -------------------------------------------------------------------

    def _dispatch(self, frame: object) -> None:
        if not isinstance(frame, dict) or not isinstance(frame.get("data"), dict):
            log.warning("ignoring a malformed frame: %.200r", frame)
            return
        kind, data = frame.get("type"), frame["data"]
        if kind == "message":
            self._on_message_frame(cast(MessageEventData, data))
        elif kind == "messages":
            self._answer("load_messages", cast(MessagesData, data).get("chat_id"), data)
        elif kind == "auth_ok":
            self._answer("auth", None, data)
        elif kind == "typing":
            self.on_typing.emit(cast(TypingEventData, data))
        elif kind == "chat_created":
            self.on_chat_created.emit(cast(ChatEventData, data))
        elif kind == "chat_updated":
            self.on_chat_updated.emit(cast(ChatEventData, data))
        elif kind == "chat_deleted":
            self._on_chat_deleted(cast(ChatEventData, data))
        elif kind == "library":
            self.on_library.emit(cast(LibraryEventData, data))
        elif kind == "error":
            self._on_error_frame(cast(ErrorData, data))
        else:
            # Servers may add frames; old clients ignore them.
            log.debug("ignoring frame type %r", kind)

    def _answer(self, kind: str, chat_id: str | None, data: object) -> None:
        for request in self._requests:
            if request.kind == kind and (chat_id is None or request.chat_id == chat_id):
                self._requests.remove(request)
                if not request.future.done():
                    request.future.set_result(data)
                return

    def _on_message_frame(self, data: MessageEventData) -> None:
        message = data.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("id"), str):
            log.warning("ignoring a message frame without a message id")
            return
        chat_id = data.get("chat_id") or message.get("chat_id")
        if not chat_id:
            log.warning("ignoring message %s without chat_id", message["id"])
            return
        message.setdefault("chat_id", chat_id)
        store = self._stores.setdefault(chat_id, MessageStore())
        stored, is_new = store.upsert(message)
        if stored["role"] == "user":
            self._on_echo(chat_id, stored)
        self.on_message.emit(stored.copy())
        if stored["role"] == "user" or is_new or stored["id"] in self._reply_by_assistant:
            self._match_replies(chat_id, updated=stored["id"])

    def _on_echo(self, chat_id: str, stored: Message) -> None:
        item = self._outbox.ack(stored["id"])
        if item is not None and item.chat_id is None and item.new_chat is not None:
            self._outbox.resolve_new_chat(item.new_chat, chat_id)
            if self._chat_id is None and item.new_chat == self._new_chat:
                self._set_chat(chat_id)
        reply = self._replies.get(stored["id"])
        if reply is not None:
            reply._echo(stored)
        if item is not None:
            self._flush()

    def _match_replies(
        self, chat_id: str, updated: str | None = None, *, resynced: bool = False
    ) -> None:
        """Bind unanswered sends in ``chat_id`` to their replies and pass on reply states."""
        store = self._stores.get(chat_id)
        if store is None or chat_id in self._syncing:
            return
        if resynced:
            # Replies bound earlier may have moved on (or ended) while we were away.
            for bound_id, reply in list(self._reply_by_assistant.items()):
                if reply.chat_id == chat_id:
                    self._feed(store, bound_id)
        waiting = [r for r in self._replies.values() if r.chat_id == chat_id and r.reply_id is None]
        if waiting:
            pairs = pair_replies(store)
            for reply in waiting:
                assistant_id = pairs.get(reply.message_id)
                if assistant_id is not None and reply.echoed.done():
                    reply.reply_id = assistant_id
                    self._reply_by_assistant[assistant_id] = reply
                    self._feed(store, assistant_id)
        if updated is not None and updated in self._reply_by_assistant:
            self._feed(store, updated)

    def _feed(self, store: MessageStore, assistant_id: str) -> None:
        reply = self._reply_by_assistant.get(assistant_id)
        message = store.get(assistant_id)
        if reply is None or message is None:
            return
        if reply._update(message):
            del self._reply_by_assistant[assistant_id]
            self._replies.pop(reply.message_id, None)

    def _on_chat_deleted(self, data: ChatEventData) -> None:
        self._forget_chat(data["chat_id"])
        self.on_chat_deleted.emit(data)

    def _forget_chat(self, chat_id: str) -> None:
        self._stores.pop(chat_id, None)
        error = StudyMateError("not_found", f"chat {chat_id} was deleted")
        for reply in [r for r in self._replies.values() if r.chat_id == chat_id]:
            self._outbox.ack(reply.message_id)
            self._replies.pop(reply.message_id, None)
            if reply.reply_id is not None:
                self._reply_by_assistant.pop(reply.reply_id, None)
            reply._fail(error)
        if self._chat_id == chat_id:
            self._new_chat += 1
            self._set_chat(None)

    def _on_error_frame(self, data: ErrorData) -> None:
        error = StudyMateError(
            str(data.get("code", "unavailable")), str(data.get("message", "")), ref=data.get("ref")
        )
        ref = error.ref
        queued = next((item for item in self._outbox if item.id == ref), None) if ref else None
        if queued is not None:
            if error.code in TRANSIENT_CODES:
                # Dropped, not refused: send it again after a pause.
                queued.sent = False
                delay = self.backoff.delay(0)
                asyncio.get_running_loop().call_later(delay, self._flush)
            else:
                self._outbox.ack(queued.id)
                reply = self._replies.pop(queued.id, None)
                if reply is not None:
                    reply._fail(error)
        elif ref is None and error.code in ("not_found", "forbidden") and self._requests:
            # Requests carry no id: the server answers a connection's frames in order.
            request = self._requests.popleft()
            if not request.future.done():
                request.future.set_exception(error)
        self.on_error.emit(error)
