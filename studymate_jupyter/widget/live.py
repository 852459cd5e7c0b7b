"""The screen kept in step with the client: what a chat panel shows, and when it is drawn.

Everything here runs on the client's loop (in its thread) except what takes ``lock``, which
the kernel's threads share: the user's actions read the state under it. Server events redraw
the widgets at most ``max_updates`` times a second (ipykernel's iopub is thread-safe;
jupyter-server drops iopub beyond 1,000 msgs/s).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import TYPE_CHECKING

from ..client import StudyMateClient, StudyMateError
from ..client.types import FINAL_STATUSES

if TYPE_CHECKING:
    from ..client.types import ConnectionState
    from ..protocol import (
        Chat,
        ChatEventData,
        ChatScope,
        Document,
        LibraryEventData,
        Message,
        TypingEventData,
    )
    from .backend import Backend
    from .screen import Screen

log = logging.getLogger("studymate_jupyter.widget")

#: Seconds the newest message must stay on screen, with nothing newer arriving, before the
#: panel tells the server it was read (a streaming chat is not read at every frame).
READ_DELAY = 0.6


class LiveView:
    """A chat's state as the panel shows it, redrawn into its ``Screen`` from client events."""

    def __init__(self, screen: Screen, loop: asyncio.AbstractEventLoop, max_updates: float) -> None:
        self.screen = screen
        self.lock = threading.RLock()
        self.backend: Backend | None = None
        self.state: str = "connecting"
        self.messages: list[Message] = []
        self.chats: list[Chat] = []
        #: The library's ready documents, which the "Draws on" dropdown offers.
        self.documents: list[Document] = []
        #: What a new chat will draw on once its first question creates it.
        self.pending_scope: ChatScope | None = None
        self.typing = False
        self.streaming = False
        #: The question the error bar's Retry sends again.
        self.retry_text: str | None = None
        #: The chat list's reload in progress, if any.
        self.refreshing: asyncio.Future[None] | None = None
        self.closed = False
        self._loop = loop
        self.min_interval = 1.0 / max_updates
        self._flush_handle: asyncio.Handle | None = None
        self._last_flush = 0.0
        self._documents_task: asyncio.Future[None] | None = None
        #: The assistant info being asked for, and how many times it was (the newest wins).
        self._assistant_task: asyncio.Future[None] | None = None
        self._assistant_asked = 0
        #: Whether the end of the conversation is on screen (the browser says, see Viewport).
        self.visible = False
        #: The message a search hit opened, marked until another chat is shown.
        self.highlighted: str | None = None
        #: The newest message told read, by chat; the read waiting to be told, and the task.
        self._told_read: dict[str, str] = {}
        self._read_timer: asyncio.TimerHandle | None = None
        self._read_task: asyncio.Future[None] | None = None

    def attach(self, backend: Backend) -> None:
        """Follow ``backend``'s client from now on (on the client's loop)."""
        self.backend = backend
        client = backend.client
        client.on_state.connect(self.set_state)
        client.on_message.connect(self._on_message)
        client.on_history.connect(self._on_history)
        client.on_typing.connect(self._on_typing)
        client.on_chat_changed.connect(self._on_chat_changed)
        for signal in (client.on_chat_created, client.on_chat_deleted):
            signal.connect(lambda _data: self.request_refresh())
        client.on_chat_updated.connect(self._on_chat_updated)
        client.on_reaction.connect(lambda data: self._on_annotation(data["chat_id"]))
        client.on_feedback.connect(lambda data: self._on_annotation(data["chat_id"]))
        client.on_library.connect(self._on_library)
        client.on_error.connect(lambda exc: self.show_error(exc.message, None))
        self.set_state(client.state)
        self.request_refresh()
        self._request_documents()

    def scope(self, chat_id: str | None) -> ChatScope | None:
        """What ``chat_id`` draws on (``None``: the whole library); for a new chat, what it
        will draw on once its first question creates it."""
        with self.lock:
            if chat_id is None:
                return self.pending_scope
            chat = next((c for c in self.chats if c["id"] == chat_id), None)
            return chat.get("scope") if chat else None

    def _request_documents(self) -> None:
        # Kept: the loop holds only a weak reference to a task.
        self._documents_task = asyncio.ensure_future(self.refresh_documents())

    def _client(self) -> StudyMateClient:
        assert self.backend is not None  # attached before any event can arrive
        return self.backend.client

    async def refresh_documents(self) -> None:
        client = self._client()
        try:
            documents = await client.list_documents()
        except StudyMateError as exc:
            log.info("cannot list documents: %s", exc)
            return
        with self.lock:
            self.documents = [d for d in documents if d["status"] == "ready"]
        self.flush()

    def request_refresh(self) -> None:
        """Reload the chat list (on the client's loop), e.g. after chat_created."""
        self.refreshing = asyncio.ensure_future(self.refresh_chats())

    async def refresh_chats(self) -> None:
        client = self._client()
        try:
            chats = await client.list_chats()
        except StudyMateError as exc:
            log.info("cannot list chats: %s", exc)
            return
        with self.lock:
            self.chats = chats
        self.flush()

    def request_assistant(self) -> None:
        """Ask again who answers and whether it can now (on the client's loop)."""
        self._assistant_task = asyncio.ensure_future(self.refresh_assistant())

    async def refresh_assistant(self) -> None:
        self._assistant_asked += 1
        asked = self._assistant_asked
        try:
            info = await self._client().assistant_info()
        except StudyMateError as exc:
            # An older server has no such endpoint: the header simply does not say who answers.
            log.info("cannot ask who answers: %s", exc)
            return
        if asked != self._assistant_asked or self.closed:
            return  # a newer question is on its way (after a failed reply, say)
        with self.lock:
            self.screen.show_assistant(info)

    def set_state(self, state: ConnectionState | str) -> None:
        backend = self.backend
        if backend is not None and backend.in_process and state == "connected":
            state = "in-process"
        reason = backend.local_reason if backend is not None else None
        with self.lock:
            previous, self.state = self.state, state
            self.screen.show_status(state, reason)
        if backend is not None and state in ("connected", "in-process") and previous != state:
            # On every (re)connect: the server may have restarted with another model, or its
            # model server may be back (or gone).
            self.request_assistant()

    def _on_message(self, message: Message) -> None:
        if message.get("role") == "assistant" and message.get("status") == "error":
            # Perhaps the model server went away: the header says so, not only this reply.
            self.request_assistant()
        if self.backend is not None and message.get("chat_id") == self.backend.client.chat_id:
            if message.get("role") == "assistant" and message.get("status") != "streaming":
                # A finished reply means the assistant stopped typing, whenever the typing
                # frame that says so arrives.
                with self.lock:
                    self.typing = False
                    self.screen.update_typing(self.typing, self.streaming)
            self.schedule()

    def _on_history(self, chat_id: str) -> None:
        if self.backend is not None and chat_id == self.backend.client.chat_id:
            self.schedule()

    def _on_library(self, data: LibraryEventData) -> None:
        # Progress frames come many a second; only a change of what can be chosen matters.
        if data["event"] == "removed" or data["document"]["status"] in ("ready", "failed"):
            self._request_documents()

    def _on_chat_changed(self, _chat_id: str | None) -> None:
        with self.lock:
            self.typing = False
            self.highlighted = None
        self.flush()

    def _on_chat_updated(self, data: ChatEventData) -> None:
        """A rename, new messages, a reply ended or a read: the chat as it now is, in place
        (every reply and every read sends one, so the list is not fetched again for them)."""
        chat = self._client().chat(data["chat_id"])
        with self.lock:
            known = any(c["id"] == data["chat_id"] for c in self.chats)
            if chat is not None and known:
                chats = [chat if c["id"] == chat["id"] else c for c in self.chats]
                self.chats = sorted(chats, key=lambda c: c["updated_at"], reverse=True)
        if known:
            self.schedule()
        else:
            self.request_refresh()

    def _on_annotation(self, chat_id: str) -> None:
        if self.backend is not None and chat_id == self.backend.client.chat_id:
            self.schedule()

    # --- read state ----------------------------------------------------------------------

    def set_visible(self, visible: bool) -> None:
        """The end of the conversation came on screen or left it (on the client's loop)."""
        self.visible = visible
        if visible:
            self._consider_read()
        elif self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _newest_finished(self) -> tuple[str, str] | None:
        """The open chat and its newest message that will not change any more."""
        client = self._client()
        chat_id = client.chat_id
        if chat_id is None:
            return None
        with self.lock:
            messages = list(self.messages)
        for message in reversed(messages):
            if message.get("status") in FINAL_STATUSES:
                return chat_id, message["id"]
        return None

    def _consider_read(self) -> None:
        """Tell the server the newest message was read once it has stayed on screen for
        READ_DELAY (each change restarts the wait, as typing notices are debounced)."""
        if not self.visible or self.closed or self.backend is None:
            return
        newest = self._newest_finished()
        if newest is None:
            return
        chat_id, message_id = newest
        chat = self._client().chat(chat_id)
        if self._told_read.get(chat_id) == message_id or (
            chat is not None and chat.get("read_up_to") == message_id and not chat.get("unread")
        ):
            return
        if self._read_timer is not None:
            self._read_timer.cancel()
        self._read_timer = self._loop.call_later(READ_DELAY, self._tell_read)

    def _tell_read(self) -> None:
        self._read_timer = None
        newest = self._newest_finished()
        if not self.visible or self.closed or newest is None:
            return
        chat_id, message_id = newest
        self._told_read[chat_id] = message_id
        self._read_task = asyncio.ensure_future(self._mark_read(chat_id, message_id))

    async def _mark_read(self, chat_id: str, message_id: str) -> None:
        try:
            await self._client().mark_read(message_id, chat_id)
        except (StudyMateError, TimeoutError) as exc:
            log.info("cannot mark the chat read: %s", exc)
            if self._told_read.get(chat_id) == message_id:
                del self._told_read[chat_id]  # told again on the next chance

    def _on_typing(self, data: TypingEventData) -> None:
        client = self.backend.client if self.backend else None
        if client is None or data.get("user_id") != "assistant":
            return
        if data.get("chat_id") != client.chat_id:
            return
        # Not batched: two frames a reply, and a short "thinking" must still show.
        with self.lock:
            self.typing = bool(data.get("is_typing"))
            self.screen.update_typing(self.typing, self.streaming)

    def schedule(self) -> None:
        """Flush soon, at most once per ``min_interval`` (streamed pieces are batched)."""
        if self._flush_handle is not None:
            return
        loop = self._loop
        delay = max(0.0, self._last_flush + self.min_interval - time.monotonic())
        self._flush_handle = loop.call_later(delay, self.flush)

    def flush(self) -> None:
        """Bring every widget up to the client's state (on the client's loop)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._last_flush = time.monotonic()
        backend = self.backend
        if backend is None or self.closed:
            return
        client = backend.client
        messages = client.messages
        shown: list[Message] = list(messages)
        stored = {m["id"] for m in messages}
        for item in client.pending:
            if item.chat_id == client.chat_id and item.id not in stored:
                pending: Message = {
                    "id": item.id,
                    "role": "user",
                    "content": item.content,
                    "citations": [],
                    "timestamp": "",
                    "chat_id": item.chat_id or "",
                    "status": "sending",  # type: ignore[typeddict-item]  # shown, not sent
                }
                shown.append(pending)
        with self.lock:
            self.messages = messages
            self.screen.render_messages(shown, client.user_id, self.highlighted)
            self.streaming = any(m.get("status") == "streaming" for m in messages)
            self.screen.update_typing(self.typing, self.streaming)
            self.screen.render_header(
                client.chat_id, self.chats, self.documents, self.pending_scope
            )
        self._consider_read()

    def show_error(self, text: str, retry_text: str | None) -> None:
        with self.lock:
            if retry_text is not None:
                self.retry_text = retry_text
            self.screen.show_error(text, can_retry=self.retry_text is not None)

    def clear_error(self) -> None:
        with self.lock:
            self.retry_text = None
            self.screen.clear_error()
