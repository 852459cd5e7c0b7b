"""The asyncio client for ``/ws/chat``: one user's chats, live, with an offline queue.

Its parts: ``connection`` (the socket and the reconnect loop), ``requests`` (frames the
server answers with one frame), ``outbox`` (messages not yet stored), ``pairing`` (each sent
message's reply), ``store`` (the messages held of each chat) and ``api`` (the REST half).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import cast

from tornado.websocket import WebSocketClientConnection

from ..protocol import (
    AuthFrame,
    Chat,
    ChatDeletedData,
    ChatEventData,
    ErrorData,
    Feedback,
    FeedbackEventData,
    FeedbackFrame,
    LibraryEventData,
    Message,
    MessageEventData,
    MessageFrame,
    MessagesPage,
    Rating,
    ReactFrame,
    ReactionData,
    ReadFrame,
    ServerFrame,
    StopFrame,
    TypingEventData,
    TypingFrame,
)
from .api import ApiMethod, ExportFormat, StudyMateApi
from .backoff import Backoff
from .connection import Connection, open_websocket
from .discovery import ServerInfo, resolve_server
from .errors import TRANSIENT_CODES, StudyMateError
from .history import History
from .outbox import Outbox, Outgoing
from .pairing import Pairing
from .reply import Reply
from .requests import Requests
from .rest import RestClient
from .signals import Signal
from .types import ConnectionState


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
        self.on_chat_deleted: Signal[ChatDeletedData] = Signal("chat_deleted")
        self.on_library: Signal[LibraryEventData] = Signal("library")
        #: (extension) A held message's reactions or the user's feedback on it changed
        #: (``reaction``/``feedback`` frames, from this connection's or another's action).
        self.on_reaction: Signal[ReactionData] = Signal("reaction")
        self.on_feedback: Signal[FeedbackEventData] = Signal("feedback")
        self.on_error: Signal[StudyMateError] = Signal("error")

        self.user_id: str | None = None
        self._chat_id = chat_id
        self._new_chat = 0
        # The chats as last heard of (lists, chat_created/chat_updated frames), by id: their
        # unread counts move with replies ending and reads from any connection.
        self._chats: dict[str, Chat] = {}
        self._outbox = Outbox()
        self._pairing = Pairing()
        self._connection = Connection(
            open_socket=self._open,
            handshake=self._handshake,
            on_frame=self._dispatch,
            on_lost=self._connection_lost,
            on_state=self.on_state,
            on_error=self.on_error,
            backoff=self.backoff,
            sleep=sleep,
            max_attempts=max_attempts,
        )
        self._requests = Requests(self._connection.write)
        self._history = History(self._requests, self._pairing, self.on_history)

    # --- properties -----------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """``connecting`` (first connection), ``connected``, ``reconnecting`` or ``offline``."""
        return self._connection.state

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
        store = self._history.get(chat_id)
        return [m.copy() for m in store] if store else []

    @property
    def chats(self) -> list[Chat]:
        """The user's chats as last heard of (``list_chats`` and the chat frames since),
        most recent activity first (copies)."""
        held = sorted(self._chats.values(), key=lambda c: c["updated_at"], reverse=True)
        return [c.copy() for c in held]

    def chat(self, chat_id: str | None) -> Chat | None:
        """A copy of ``chat_id`` as last heard of (its ``unread`` and ``read_up_to``
        included), or ``None`` if this client has not heard of it."""
        chat = self._chats.get(chat_id) if chat_id else None
        return chat.copy() if chat is not None else None

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

    async def api(self) -> StudyMateApi:
        """The REST half of the protocol: here over HTTP, to the resolved server."""
        await self.resolve()
        return self.rest

    async def start(self) -> None:
        """Resolve the server and start connecting in the background (returns at once)."""
        await self.resolve()
        self._connection.start(self.server.ws_url)

    async def connect(self, timeout: float | None = 30.0) -> None:
        """Start and wait until connected. Raises StudyMateError if the server refuses the
        credentials, TimeoutError if not connected in time (it keeps trying meanwhile)."""
        await self.start()
        await self.wait_connected(timeout)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the client is connected (again)."""
        await self._connection.wait_connected(timeout)

    async def close(self) -> None:
        """Disconnect and stop reconnecting; pending replies fail with ``unavailable``."""
        await self._connection.close()
        self._requests.fail_all(StudyMateError("unavailable", "client closed"))
        self._pairing.fail_all("client closed")
        self._connection.set_state("offline")

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
        if self.state == "connected":
            self._pairing.syncing.add(chat_id)
            try:
                await self._requests.ask(AuthFrame.of(chat_id), self.request_timeout)
                await self._resync(chat_id)
            except StudyMateError as exc:
                if exc.code == "not_found":
                    # Not ours or gone: do not keep it as the current chat.
                    self._forget_chat(chat_id)
                raise
            finally:
                self._pairing.syncing.discard(chat_id)
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
        return await self._history.load(chat, before, limit, self.request_timeout)

    async def load_older(self, limit: int | None = None) -> MessagesPage:
        """The page before the oldest message held of the current chat."""
        store = self._history.get(self._chat_id)
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
        self._pairing.add(reply)
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
        if not self._connection.write(StopFrame.of(chat)):
            raise StudyMateError("unavailable", "not connected")

    async def set_typing(self, is_typing: bool) -> bool:
        """Tell the other clients of the current chat whether this user is typing.

        Typing is transient: it is dropped (False returned) when offline or chatless."""
        if self._chat_id is None or self.state != "connected":
            return False
        return self._connection.write(TypingFrame.of(self._chat_id, is_typing))

    # --- reactions, feedback, read state (extension) -------------------------------------

    async def react(
        self, message_id: str, emoji: str, on: bool = True, chat_id: str | None = None
    ) -> dict[str, list[str]]:
        """Put ``emoji`` (one of ``protocol.REACTION_EMOJI``) on a message of ``chat_id``
        (default: the current chat), or take it off (``on=False``); the message's
        reactions, ``{emoji: [user_id, …]}``, as the server now has them."""
        chat = chat_id or self._chat_for("react in")
        frame = ReactFrame.of(chat, message_id, emoji, on)
        answer = await self._requests.ask(frame, self.request_timeout)
        return answer["reactions"]

    async def feedback(
        self,
        message_id: str,
        rating: Rating | None,
        note: str | None = None,
        chat_id: str | None = None,
    ) -> Feedback | None:
        """Rate an answer ``"up"`` or ``"down"``, with an optional ``note`` (at most 1,000
        characters); a new rating replaces the old one, ``None`` takes it back. The
        feedback as stored."""
        chat = chat_id or self._chat_for("rate in")
        frame = FeedbackFrame.of(chat, message_id, rating, note)
        answer = await self._requests.ask(frame, self.request_timeout)
        return answer["feedback"]

    async def mark_read(self, message_id: str, chat_id: str | None = None) -> Chat:
        """Say the user has seen ``chat_id`` (default: the current chat) up to
        ``message_id``; the chat with its ``unread`` count, as every connection now has it."""
        chat = chat_id or self._chat_for("mark read")
        answer = await self._requests.ask(ReadFrame.of(chat, message_id), self.request_timeout)
        return self._chats.get(chat, answer).copy()

    def _chat_for(self, action: str) -> str:
        if self._chat_id is None:
            raise StudyMateError("bad_request", f"no chat to {action}")
        return self._chat_id

    # --- REST (over HTTP, or in-process): declared once, in api.StudyMateApi ---------------

    me = ApiMethod(StudyMateApi.me)
    create_chat = ApiMethod(StudyMateApi.create_chat)
    rename_chat = ApiMethod(StudyMateApi.rename_chat)
    set_scope = ApiMethod(StudyMateApi.set_scope)
    delete_chat = ApiMethod(StudyMateApi.delete_chat)
    get_messages = ApiMethod(StudyMateApi.get_messages)
    list_documents = ApiMethod(StudyMateApi.list_documents)
    add_document = ApiMethod(StudyMateApi.add_document)
    get_document = ApiMethod(StudyMateApi.get_document)
    delete_document = ApiMethod(StudyMateApi.delete_document)
    passage = ApiMethod(StudyMateApi.passage)
    search = ApiMethod(StudyMateApi.search)
    retrieval_info = ApiMethod(StudyMateApi.retrieval_info)
    assistant_info = ApiMethod(StudyMateApi.assistant_info)
    search_messages = ApiMethod(StudyMateApi.search_messages)

    async def list_chats(self) -> list[Chat]:
        """The user's chats, most recent activity first (also kept: ``chats``)."""
        chats = await (await self.api()).list_chats()
        self._chats = {c["id"]: c.copy() for c in chats}
        return chats

    async def get_chat(self, chat_id: str) -> Chat:
        chat = await (await self.api()).get_chat(chat_id)
        self._chats[chat_id] = chat.copy()
        return chat

    async def export_chat(
        self, chat_id: str | None = None, format: ExportFormat = "markdown"
    ) -> str:
        """The conversation (default: the current chat) with its citations, as Markdown or
        notebook JSON text."""
        chat = chat_id or self._chat_id
        if chat is None:
            raise StudyMateError("bad_request", "no chat to export")
        return await (await self.api()).export_chat(chat, format)

    # --- the connection -------------------------------------------------------------------

    def _set_chat(self, chat_id: str | None) -> None:
        if chat_id != self._chat_id:
            self._chat_id = chat_id
            self.on_chat_changed.emit(chat_id)

    async def _open(self) -> WebSocketClientConnection:
        return await open_websocket(self.server, self.connect_timeout)

    def _connection_lost(self) -> None:
        self._requests.fail_all(StudyMateError("unavailable", "connection lost"))
        self._outbox.connection_lost()

    async def _handshake(self) -> None:
        """Authenticate, resubscribe, reload what was missed, then flush the queue."""
        chat = self._chat_id
        self._pairing.syncing.update(self._chats_to_sync())
        try:
            ok = await self._requests.ask(AuthFrame.of(chat), self.request_timeout)
        except StudyMateError as exc:
            if exc.code != "not_found" or chat is None:
                raise
            # The chat is gone (deleted elsewhere while we were away).
            self.on_error.emit(exc)
            self._forget_chat(chat)
            ok = await self._requests.ask(AuthFrame.of(None), self.request_timeout)
        self.user_id = ok["user_id"]
        for chat_id in self._chats_to_sync():
            try:
                await self._resync(chat_id)
            except StudyMateError as exc:
                if exc.code != "not_found":
                    raise
                self.on_error.emit(exc)
                self._forget_chat(chat_id)
        self._connection.set_state("connected")
        self._flush()

    def _chats_to_sync(self) -> list[str]:
        """The current chat and every chat a queued or unanswered message belongs to."""
        chats = [self._chat_id] if self._chat_id else []
        return chats + [c for c in self._pairing.chats() if c not in chats]

    async def _resync(self, chat_id: str) -> None:
        await self._history.resync(
            chat_id, self.history_limit, self.resync_pages, self.request_timeout
        )

    def _flush(self) -> None:
        """Send what the offline queue may send now, in order."""
        if self.state != "connected":
            return
        for item in self._outbox.take_sendable():
            if not self._connection.write(MessageFrame.of(item.id, item.content, item.chat_id)):
                # Lost: connection_lost() will mark everything for resending.
                return

    # --- inbound frames -------------------------------------------------------------------

    def _dispatch(self, frame: ServerFrame) -> None:
        if frame["type"] == "message":
            self._on_message_frame(frame["data"])
        elif frame["type"] == "messages":
            self._requests.answer("load_messages", frame["data"]["chat_id"], frame["data"])
        elif frame["type"] == "auth_ok":
            self._requests.answer("auth", None, frame["data"])
        elif frame["type"] == "typing":
            self.on_typing.emit(frame["data"])
        elif frame["type"] == "chat_created":
            self._hold_chat(frame["data"])
            self.on_chat_created.emit(frame["data"])
        elif frame["type"] == "chat_updated":
            self._hold_chat(frame["data"])
            self._requests.answer("read", frame["data"]["chat_id"], frame["data"])
            self.on_chat_updated.emit(frame["data"])
        elif frame["type"] == "chat_deleted":
            self._forget_chat(frame["data"]["chat_id"])
            self.on_chat_deleted.emit(frame["data"])
        elif frame["type"] == "library":
            self.on_library.emit(frame["data"])
        elif frame["type"] == "reaction":
            self._on_reaction_frame(frame["data"])
        elif frame["type"] == "feedback":
            self._on_feedback_frame(frame["data"])
        elif frame["type"] == "error":
            self._on_error_frame(frame["data"])
        # message_delta goes only to connections that ask for deltas; this one does not.

    def _on_message_frame(self, data: MessageEventData) -> None:
        chat_id = data["chat_id"]
        store = self._history.store(chat_id)
        stored, is_new = store.upsert(data["message"])
        if stored["role"] == "user":
            self._on_echo(chat_id, stored)
        self.on_message.emit(stored.copy())
        if stored["role"] == "user" or is_new or self._pairing.is_answer(stored["id"]):
            self._pairing.match(chat_id, store, updated=stored["id"])

    def _hold_chat(self, data: ChatEventData) -> None:
        # The whole Chat; the frame's extra ``chat_id`` (the contract's name for ``id``) goes.
        chat = {k: v for k, v in data.items() if k != "chat_id"}
        self._chats[data["chat_id"]] = cast(Chat, chat)

    def _on_reaction_frame(self, data: ReactionData) -> None:
        store = self._history.get(data["chat_id"])
        held = store.get(data["message_id"]) if store else None
        if held is not None:
            held["reactions"] = data["reactions"]
        self._requests.answer("react", data["chat_id"], data, data["message_id"])
        self.on_reaction.emit(data)

    def _on_feedback_frame(self, data: FeedbackEventData) -> None:
        store = self._history.get(data["chat_id"])
        held = store.get(data["message_id"]) if store else None
        if held is not None:
            held["feedback"] = data["feedback"]
        self._requests.answer("feedback", data["chat_id"], data, data["message_id"])
        self.on_feedback.emit(data)

    def _on_echo(self, chat_id: str, stored: Message) -> None:
        item = self._outbox.ack(stored["id"])
        if item is not None and item.chat_id is None and item.new_chat is not None:
            self._outbox.resolve_new_chat(item.new_chat, chat_id)
            if self._chat_id is None and item.new_chat == self._new_chat:
                self._set_chat(chat_id)
        self._pairing.echoed(stored)
        if item is not None:
            self._flush()

    def _forget_chat(self, chat_id: str) -> None:
        self._history.forget(chat_id)
        self._chats.pop(chat_id, None)
        error = StudyMateError("not_found", f"chat {chat_id} was deleted")
        for message_id in self._pairing.forget_chat(chat_id, error):
            self._outbox.ack(message_id)
        if self._chat_id == chat_id:
            self._new_chat += 1
            self._set_chat(None)

    def _on_error_frame(self, data: ErrorData) -> None:
        error = StudyMateError(data["code"], data["message"], ref=data.get("ref"))
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
                self._pairing.fail(queued.id, error)
        elif ref is None and error.code in ("not_found", "forbidden", "bad_request"):
            # The server answers a connection's frames in order: an error naming no message
            # refuses the oldest question (an auth, a page, a reaction, a rating, a read).
            self._requests.refuse_oldest(error)
        self.on_error.emit(error)
