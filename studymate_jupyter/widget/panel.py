"""``ChatPanel``: the StudyMate chat inside a notebook, built from ipywidgets.

Threads: the client lives on its own loop in a daemon thread (``ClientThread``), so the panel
keeps working while other cells run and never touches the kernel's event loop. What the
panel shows follows the client there (``LiveView``); the user's actions (the kernel's shell
thread, or a subshell thread in ipykernel 7) only read the input and hand the work, done
here, to the client's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import logging
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..client import ClientThread, StudyMateClient, StudyMateError, pair_replies
from ..protocol import title_from
from .backend import Backend, open_backend
from .citations import open_in_lab, preview_body, preview_link, preview_title
from .live import LiveView
from .render import escape
from .scope import scope_of
from .screen import NEW_CHAT, Actions, Screen
from .views import MessageView

if TYPE_CHECKING:
    from ..protocol import (
        ChatScope,
        Citation,
        Document,
        Feedback,
        Message,
        MessageSearchResult,
        Passage,
        Rating,
    )

T = TypeVar("T")
log = logging.getLogger("studymate_jupyter.widget")
#: Pages of older history loaded, at most, to reach a search hit (50 messages each).
MAX_PAGES_TO_A_HIT = 40


class ChatPanel:
    """The StudyMate chat as a notebook widget; display it by making it a cell's last value.

    ``chat_id`` opens that chat (``None``: a new chat, created by its first message);
    ``url``/``token`` name the server (else ``STUDYMATE_URL``/``STUDYMATE_TOKEN``, else the
    Jupyter server running this kernel). When no server answers, StudyMate runs in this
    process on ``root_dir`` (default: the working directory) with ``local_traits``
    (``StudyMate`` traits such as ``db_url``); the header says so.
    """

    def __init__(
        self,
        chat_id: str | None = None,
        url: str | None = None,
        token: str | None = None,
        *,
        root_dir: str | Path | None = None,
        local_traits: dict[str, Any] | None = None,
        max_updates: float = 20.0,
        probe_timeout: float = 3.0,
    ) -> None:
        self.screen = Screen(
            Actions(
                pick_chat=self._on_pick,
                new_chat=self._on_new_chat,
                choose_scope=self._on_scope,
                send_input=self._send_input,
                stop=self._on_stop,
                retry_error=self._retry,
                open_chip=self._on_chip,
                retry_reply=self._on_retry,
                check_assistant=self._on_check_assistant,
                react=self._on_react,
                rate=self._on_rate,
                search=self._on_search,
                open_result=self._on_open_result,
                seen=self._on_seen,
            )
        )
        self._thread = ClientThread(
            lambda: StudyMateClient(url, token, chat_id=chat_id), name="studymate-widget"
        )
        self._view = LiveView(self.screen, self._thread.loop, max_updates)
        self._started = self._spawn(
            self._start(
                chat_id,
                root_dir=root_dir,
                local_traits=dict(local_traits or {}),
                probe_timeout=probe_timeout,
            )
        )

    # --- public API ------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.screen.widget._repr_mimebundle_(**kwargs)

    @property
    def messages(self) -> list[Message]:
        """The conversation on screen, oldest first, as protocol Message dicts (copies)."""
        with self._view.lock:
            return [dict(m) for m in self._view.messages]  # type: ignore[misc]

    @property
    def chat_id(self) -> str | None:
        return self._view.backend.client.chat_id if self._view.backend else None

    @property
    def scope(self) -> ChatScope | None:
        """What the open chat draws on (``None``: the whole library); for a new chat, what it
        will draw on once its first question creates it."""
        return self._view.scope(self.chat_id)

    @property
    def connection(self) -> str:
        """``connecting``, ``connected``, ``reconnecting``, ``offline`` or ``in-process``."""
        return self._view.state

    @property
    def in_process(self) -> bool:
        return self._view.backend is not None and self._view.backend.in_process

    @property
    def typing(self) -> bool:
        """Whether the assistant is thinking or writing in the open chat."""
        return self._view.typing

    @property
    def visible(self) -> bool:
        """Whether the end of the conversation is on screen in a visible tab (the browser
        says); only then does the panel tell the server that the chat was read."""
        return self.screen.viewport.visible

    @property
    def highlighted(self) -> str | None:
        """The id of the message a search hit opened, marked in the conversation."""
        return self._view.highlighted

    @property
    def views(self) -> dict[str, MessageView]:
        """The message rows on screen by message id."""
        with self._view.lock:
            return dict(self.screen._views)

    async def send(self, text: str, *, timeout: float | None = None) -> Message:
        """Send ``text`` in the open chat; return the assistant's final Message (with its
        citations) once the reply has streamed and is on screen."""
        return await self._run(self._send(text), timeout)

    async def open_chat(self, chat_id: str | None) -> list[Message]:
        """Show ``chat_id`` with its history (``None``: a new chat)."""
        await self._run(self._open_chat(chat_id) if chat_id else self._new_chat())
        return self.messages

    async def search(
        self, query: str, *, chat_id: str | None = None, limit: int | None = None
    ) -> list[MessageSearchResult]:
        """Search your own messages (every word of ``query``, newest first) and list the hits
        in the panel, where choosing one opens its chat at it; the hits."""
        return await self._run(self._search(query, chat_id, limit))

    async def open_result(self, result: MessageSearchResult) -> None:
        """Open a search hit's chat at its message (older history is loaded until it is
        there) and highlight it, as choosing it in the list does."""
        await self._run(self._open_result(result))

    async def react(self, message_id: str, emoji: str, on: bool = True) -> dict[str, list[str]]:
        """Put an emoji on a message of the open chat (or take it off); its reactions."""

        async def react() -> dict[str, list[str]]:
            return await (await self._ready()).client.react(message_id, emoji, on)

        return await self._run(react())

    async def rate(
        self, message_id: str, rating: Rating | None, note: str | None = None
    ) -> Feedback | None:
        """Rate an answer of the open chat ``"up"`` or ``"down"`` with an optional note
        (``None`` takes the rating back); the feedback as stored."""

        async def rate() -> Feedback | None:
            return await (await self._ready()).client.feedback(message_id, rating, note)

        return await self._run(rate())

    async def set_scope(self, scope: ChatScope | None) -> None:
        """Limit the open chat to a folder or chosen documents (``None``: the whole library),
        as the "Draws on" dropdown does: ``{"folder": "physics"}`` or
        ``{"document_ids": [...]}``. A new chat is created with it by its first question."""
        await self._run(self._set_scope(scope))

    async def open_citation(self, citation: Citation, number: int | None = None) -> Passage:
        """Show the cited passage in the preview (and ask JupyterLab to open the file at its
        page where StudyMate's extension is installed); return the Passage."""
        return await self._run(self._open_citation(number or 1, citation))

    async def add_document(self, path: str, *, timeout: float = 120.0) -> Document:
        """Add a file to the library and wait until it is indexed; raises StudyMateError if it
        cannot be. A relative path names a file next to this notebook (the kernel's working
        directory) if there is one, else under the server's root directory."""
        return await self._run(self._add_document(beside_notebook(path)), timeout)

    async def wait_ready(self, timeout: float | None = 30.0) -> None:
        """Wait until the panel has chosen its server (or in-process mode) and connected."""
        await self._run(self._wait_connected(), timeout)

    def close(self) -> None:
        """Disconnect, end the client's thread and close the widgets."""
        if self._view.closed:
            return
        self._view.closed = True
        try:
            self._thread.call(self._shutdown(), 15)
        except Exception as exc:
            log.debug("closing the client failed: %s", exc)
        self._thread.stop()
        with self._view.lock:
            self.screen.close()

    # --- thread plumbing -------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the client's loop, in an empty context.

        Empty, not the caller's: ipykernel keeps the executing cell's message in a
        ContextVar, and a task that inherited one cell's context would label every widget
        update it ever sends as that cell's output. Without one, ipykernel uses the cell
        executing at the time of the update (and nbclient stores the widget state)."""
        return contextvars.Context().run(asyncio.run_coroutine_threadsafe, coro, self._thread.loop)

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        future = self._spawn(coro)
        future.add_done_callback(_log_failure)
        return future

    async def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the client's loop and await it from the caller's loop."""
        return await asyncio.wait_for(asyncio.wrap_future(self._spawn(coro)), timeout)

    async def _ready(self) -> Backend:
        await asyncio.wrap_future(self._started)
        assert self._view.backend is not None
        return self._view.backend

    async def _start(
        self,
        chat_id: str | None,
        *,
        root_dir: str | Path | None,
        local_traits: dict[str, Any],
        probe_timeout: float,
    ) -> None:
        try:
            backend = await open_backend(
                self._thread.client,
                root_dir=root_dir,
                local_traits=local_traits,
                probe_timeout=probe_timeout,
            )
        except Exception as exc:
            self._view.set_state("offline")
            self._view.show_error(f"StudyMate is not available: {exc}", None)
            raise
        self._view.attach(backend)

    async def _wait_connected(self) -> None:
        backend = await self._ready()
        await backend.client.wait_connected()

    async def _shutdown(self) -> None:
        backend = self._view.backend
        if backend is not None and backend.client is not self._thread.client:
            await backend.client.close()

    # --- work on the client's loop ---------------------------------------------------------

    async def _send(self, text: str) -> Message:
        client = (await self._ready()).client
        self._view.clear_error()
        try:
            if client.chat_id is None and self._view.pending_scope is not None:
                # The server creates a chat from its first message with the whole library, so
                # a limited one is created first, titled as the first message would title it.
                chat = await client.create_chat(title_from(text), self._view.pending_scope)
                self._view.pending_scope = None
                await client.open_chat(chat["id"])
            final = await client.post(text)
        except StudyMateError as exc:
            self._view.show_error(f"Not sent: {exc.message}", text)
            raise
        finally:
            self._view.flush()
        if self._view.refreshing is not None:
            # The new chat's title belongs in the header by the time send() returns.
            await self._view.refreshing
        if final.get("status") == "error":
            self._view.retry_text = text
        return final

    async def _post_input(self, text: str) -> None:
        with contextlib.suppress(StudyMateError):  # shown in the error bar, with Retry
            await self._send(text)

    async def _stop(self) -> None:
        client = (await self._ready()).client
        try:
            await client.stop()
        except StudyMateError as exc:
            self._view.show_error(f"Could not stop: {exc.message}", None)

    async def _new_chat(self) -> None:
        client = (await self._ready()).client
        client.new_chat()
        self._view.pending_scope = None
        self._view.flush()

    async def _set_scope(self, scope: ChatScope | None) -> None:
        client = (await self._ready()).client
        chat_id = client.chat_id
        if chat_id is None:
            self._view.pending_scope = scope
        else:
            try:
                chat = await client.set_scope(chat_id, scope)
            except StudyMateError as exc:
                self._view.show_error(f"Cannot limit this chat: {exc.message}", None)
                self._view.flush()  # the dropdown goes back to what the chat draws on
                raise
            with self._view.lock:
                self._view.chats = [chat if c["id"] == chat_id else c for c in self._view.chats]
        self._view.flush()

    async def _open_chat(self, chat_id: str) -> None:
        client = (await self._ready()).client
        try:
            await client.open_chat(chat_id)
        except StudyMateError as exc:
            self._view.show_error(f"Cannot open that chat: {exc.message}", None)
            raise
        finally:
            self._view.flush()

    async def _open_citation(self, number: int, citation: Citation) -> Passage:
        backend = await self._ready()
        with self._view.lock:
            self.screen.show_passage(preview_title(number, citation, None), "<i>Loading…</i>", "")
        if not backend.in_process:
            open_in_lab(citation)
        try:
            passage = await backend.passage(citation["document_id"], citation["chunk_id"])
        except StudyMateError as exc:
            with self._view.lock:
                self.screen.show_passage(
                    preview_title(number, citation, None),
                    f"<i>The passage cannot be shown: {escape(exc.message)}</i>",
                    "",
                )
            raise
        with self._view.lock:
            self.screen.show_passage(
                preview_title(number, citation, passage),
                preview_body(passage),
                preview_link(backend.base_url, passage),
            )
        return passage

    async def _search(
        self, query: str, chat_id: str | None, limit: int | None
    ) -> list[MessageSearchResult]:
        client = (await self._ready()).client
        try:
            page = await client.search_messages(query, chat_id, limit)
        except StudyMateError as exc:
            with self._view.lock:
                self.screen.show_search_error(f"Cannot search: {exc.message}")
            raise
        with self._view.lock:
            self.screen.show_results(query, page)
        return page["results"]

    async def _open_result(self, result: MessageSearchResult) -> None:
        client = (await self._ready()).client
        chat_id, message_id = result["chat_id"], result["message_id"]
        if client.chat_id != chat_id:
            await self._open_chat(chat_id)
        for _ in range(MAX_PAGES_TO_A_HIT):
            if any(m["id"] == message_id for m in client.messages):
                break
            try:
                page = await client.load_older()
            except StudyMateError as exc:
                self._view.show_error(f"Cannot load that message: {exc.message}", None)
                raise
            if not page["has_more"] and not page["messages"]:
                break
        with self._view.lock:
            self._view.highlighted = message_id
        self._view.flush()
        with self._view.lock:
            self.screen.scroll_to_highlight()

    async def _react(self, message: Message, emoji: str, on: bool) -> None:
        client = (await self._ready()).client
        try:
            await client.react(message["id"], emoji, on, message.get("chat_id") or None)
        except (StudyMateError, TimeoutError) as exc:
            self._view.show_error(f"Could not react: {getattr(exc, 'message', exc)}", None)

    async def _rate(self, message: Message, rating: Rating | None, note: str | None) -> None:
        client = (await self._ready()).client
        try:
            await client.feedback(message["id"], rating, note, message.get("chat_id") or None)
        except (StudyMateError, TimeoutError) as exc:
            self._view.show_error(f"Could not rate: {getattr(exc, 'message', exc)}", None)

    async def _add_document(self, path: str) -> Document:
        backend = await self._ready()
        document = await backend.add_document(path)
        while document["status"] not in ("ready", "failed"):
            await asyncio.sleep(0.2)
            document = await backend.get_document(document["id"])
        if document["status"] == "failed":
            raise StudyMateError("bad_request", f"{path}: {document.get('error') or 'failed'}")
        return document

    # --- client events (on the client's loop) ----------------------------------------------

    # --- rendering -------------------------------------------------------------------------

    # --- user actions (any thread: they only hand work to the client's loop) --------------

    def _send_input(self) -> None:
        with self._view.lock:
            text = self.screen.input.value
            if not text.strip():
                return
            self.screen.input.value = ""
        self._submit(self._post_input(text))

    def _retry(self) -> None:
        text = self._view.retry_text
        if text:
            self._submit(self._post_input(text))

    def _on_retry(self, message: Message) -> None:
        """Ask again the question a failed reply answered."""
        with self._view.lock:
            messages = list(self._view.messages)
        answered = {a: q for q, a in pair_replies(messages).items()}
        question = next((m for m in messages if m["id"] == answered.get(message["id"])), None)
        if question is not None:
            self._submit(self._post_input(question["content"]))

    def _on_check_assistant(self) -> None:
        if self._view.backend is not None:
            self._submit(self._view.refresh_assistant())

    def _on_react(self, message: Message, emoji: str, on: bool) -> None:
        self._submit(self._react(message, emoji, on))

    def _on_rate(self, message: Message, rating: Rating | None, note: str | None) -> None:
        self._submit(self._rate(message, rating, note))

    def _on_search(self, query: str) -> None:
        self._submit(self._search(query, None, None))

    def _on_open_result(self, result: MessageSearchResult) -> None:
        self._submit(self._open_result(result))

    def _on_seen(self, visible: bool) -> None:
        # From the kernel's thread (a comm message); the read state lives on the client's loop.
        self._thread.loop.call_soon_threadsafe(
            self._view.set_visible, visible, context=contextvars.Context()
        )

    def _on_new_chat(self) -> None:
        self._submit(self._new_chat())

    def _on_scope(self, value: str) -> None:
        self._submit(self._set_scope(scope_of(value)))

    def _on_stop(self) -> None:
        self._submit(self._stop())

    def _on_chip(self, number: int, citation: Citation) -> None:
        self._submit(self._open_citation(number, citation))

    def _on_pick(self, value: str) -> None:
        if value == NEW_CHAT:
            self._submit(self._new_chat())
        else:
            self._submit(self._open_chat(value))


def beside_notebook(path: str) -> str:
    """``path`` made absolute when it names a file in the working directory: Jupyter starts a
    notebook's kernel in the notebook's folder, which may be anywhere under the server's root,
    and the server takes an absolute path inside its root as well as a relative one."""
    here = Path(path).expanduser()
    if not here.is_absolute() and here.is_file():
        return os.path.abspath(here)
    return path


def _log_failure(future: concurrent.futures.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.debug("StudyMate widget action failed: %s", future.exception())
