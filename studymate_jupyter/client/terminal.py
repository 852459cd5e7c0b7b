"""``studymate chat``: the chat in a terminal, on top of :class:`StudyMateClient`.

Lines typed (or piped in) are sent; lines starting with ``/`` are commands (:data:`HELP`).
At a terminal, replies are rendered as Markdown while they stream (:mod:`.terminal_rich`);
with ``--plain``, or when stdout is not a terminal, they stream as text
(:mod:`.terminal_plain`), so scripts and pipes keep reading a plain transcript.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..protocol import MAX_FEEDBACK_NOTE, Chat, Message, Rating, TypingEventData
from .client import StudyMateClient
from .discovery import ServerNotFound
from .errors import StudyMateError
from .terminal_input import KeyboardInput, LineEditor, piped_lines
from .terminal_plain import PlainView
from .terminal_view import ChatRow, SearchHit, TerminalView
from .types import FINAL_STATUSES, ConnectionState

if TYPE_CHECKING:
    from .reply import Reply

HELP = """commands:
  /new         start a new chat (your next message opens it)
  /chats       list your chats, newest first, numbered
  /open N      switch to chat N of the last /chats list (or /open ID)
  /stop        stop the reply in progress (at a terminal, Ctrl-C does too)
  /up [NOTE]   rate the last answer helpful (a note saying why may follow)
  /down [NOTE] rate the last answer not helpful (a note saying why may follow)
  /search Q    find your messages with these words, in all your chats
  /help        show this list
  /quit        leave (so does end of input, Ctrl-D)"""

#: ``/open N`` takes a number up to this many digits; anything longer is a chat id.
MAX_NUMBER_DIGITS = 6


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``studymate chat`` to the ``studymate`` command."""
    parser = subparsers.add_parser(
        "chat",
        help="chat with StudyMate in the terminal",
        description="Chat with StudyMate: type a line to send it; /help lists commands. "
        "Without --url, uses STUDYMATE_URL or the running Jupyter server of this directory.",
    )
    parser.add_argument("--chat", dest="chat_id", metavar="ID", help="open this chat")
    parser.add_argument("--url", help="the Jupyter server's URL (token may be in ?token=)")
    parser.add_argument("--token", help="the Jupyter token (else STUDYMATE_TOKEN/JUPYTER_TOKEN)")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="print replies as plain text, as when stdout is not a terminal",
    )
    parser.set_defaults(handler=run)


def wants_rich(plain: bool) -> bool:
    """Render replies unless told not to or stdout is not a terminal that can show it."""
    return not plain and sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def run(args: argparse.Namespace) -> int:
    client = StudyMateClient(args.url, args.token, chat_id=args.chat_id)
    if not wants_rich(args.plain):
        return asyncio.run(TerminalChat(client).main())
    try:
        return asyncio.run(_rich_chat(client))
    except asyncio.CancelledError:
        # SIGTERM or SIGHUP: the terminal was given back in the finally blocks on the way.
        return 128 + signal.SIGTERM


async def _rich_chat(client: StudyMateClient) -> int:
    # Imported here: plain runs (scripts, pipes) do not pay for rich's import.
    from rich.console import Console

    from .terminal_rich import RichView

    keyboard = sys.stdin.isatty() and sys.platform != "win32"
    view = RichView(
        Console(file=sys.stdout, markup=False, emoji=False, highlight=False), prompt=keyboard
    )
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        for name in ("SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is not None:
                # Leave through the finally blocks, which restore the cursor and the
                # terminal's line mode, rather than die with them changed.
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(number, task.cancel)
    chat = TerminalChat(client, view, keyboard=view.input_changed if keyboard else None)
    return await chat.main()


class TerminalChat:
    """The terminal front end: shows what the client sees, sends what the user types.

    ``keyboard``: read keys from the terminal and edit the line in place, calling it to
    redraw the line after each key; ``None`` reads whole lines from stdin.
    """

    def __init__(
        self,
        client: StudyMateClient,
        view: TerminalView | None = None,
        *,
        keyboard: Callable[[LineEditor], None] | None = None,
    ) -> None:
        self.client = client
        self.view: TerminalView = view or PlainView(sys.stdout, sys.stderr)
        self.keyboard = keyboard
        self._finished: set[str] = set()
        self._streaming: set[str] = set()
        self._seen_users: set[str] = set()
        self._own: set[str] = set()
        self._pending: set[Reply] = set()
        self._listing: list[Chat] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # --- what the client sees -------------------------------------------------------------

    def show(self, message: Message, *, replayed: bool = False) -> None:
        """Show a message of the current chat, or the new state of a streaming reply
        (idempotent: each user message and each finished reply is shown once)."""
        if message.get("chat_id") != self.client.chat_id:
            return
        mid = message["id"]
        if message["role"] == "user":
            if mid in self._seen_users:
                return
            self._seen_users.add(mid)
            if mid in self._own:
                # Typed here: on screen already. Shown again only as history (/open).
                self._own.discard(mid)
            else:
                self.view.user(message)
            return
        if mid in self._finished:
            return
        if message.get("status") in FINAL_STATUSES:
            self._finished.add(mid)
            self._streaming.discard(mid)
            self.view.reply(message)
            if not replayed:
                self._read(message)
            return
        self._streaming.add(mid)
        self.view.reply(message)

    def _show_history(self, chat_id: str) -> None:
        if chat_id == self.client.chat_id:
            for message in self.client.messages:
                self.show(message, replayed=True)
            if self.client.messages:
                self._read(self.client.messages[-1])

    def _read(self, message: Message) -> None:
        """What was printed at a terminal has been seen: it is read in every client. (Piped
        output goes to a script, not a reader: it leaves unread counts alone.)"""
        if self.keyboard is None:
            return

        async def read() -> None:
            with contextlib.suppress(StudyMateError, TimeoutError):
                await self.client.mark_read(message["id"], message["chat_id"])

        task = asyncio.ensure_future(read())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_typing(self, data: TypingEventData) -> None:
        if data.get("chat_id") == self.client.chat_id and data.get("user_id") == "assistant":
            self.view.typing(bool(data.get("is_typing")))

    def _on_chat_changed(self, _chat_id: str | None) -> None:
        self._forget_shown()
        self.view.chat_changed()

    def _forget_shown(self) -> None:
        """Let a chat opened (again) show its whole history."""
        self._streaming.clear()
        self._seen_users.clear()
        self._finished.clear()

    def _on_state(self, state: ConnectionState) -> None:
        self.view.state(state)

    def _on_error(self, error: StudyMateError) -> None:
        self.view.error(f"error: {error}")

    # --- what the user types --------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Act on one input line; False to quit."""
        text = line.strip()
        if not text:
            return True
        self.view.typed(line)
        if not text.startswith("/"):
            reply = self.client.post(line)
            self._own.add(reply.message_id)
            self._pending.add(reply)
            reply.done.add_done_callback(lambda _: self._pending.discard(reply))
            if self.client.state != "connected":
                self.view.note(f"{self.client.state}: sent when the connection is back")
            return True
        command, _, argument = text.partition(" ")
        if command == "/quit":
            return False
        if command == "/new":
            self.client.new_chat()
            self.view.note("new chat: your next message starts it")
        elif command == "/chats":
            await self._list_chats()
        elif command == "/open":
            await self._open(argument.strip())
        elif command == "/stop":
            await self.client.stop()
        elif command in ("/up", "/down"):
            await self._rate("up" if command == "/up" else "down", argument.strip() or None)
        elif command == "/search":
            await self._search(argument.strip())
        elif command == "/help":
            self.view.help(HELP)
        else:
            self.view.error(f"unknown command {command}; /help lists the commands")
        return True

    async def _list_chats(self) -> None:
        self._listing = await self.client.list_chats()
        if not self._listing:
            self.view.note("no chats yet: your first message starts one")
            return
        current = self.client.chat_id
        self.view.chats(
            [
                ChatRow(number, chat, chat["id"] == current)
                for number, chat in enumerate(self._listing, start=1)
            ]
        )

    async def _rate(self, rating: Rating, note: str | None) -> None:
        if note is not None and len(note) > MAX_FEEDBACK_NOTE:
            self.view.error(f"a note is at most {MAX_FEEDBACK_NOTE} characters")
            return
        if self._pending:
            # A script's "question, then /up" rates the answer to that question.
            await asyncio.wait([reply.done for reply in list(self._pending)])
        answer = next(
            (
                m
                for m in reversed(self.client.messages)
                if m["role"] == "assistant" and m.get("status") in FINAL_STATUSES
            ),
            None,
        )
        if answer is None:
            self.view.error("no answer to rate yet in this chat")
            return
        await self.client.feedback(answer["id"], rating, note)
        said = "helpful" if rating == "up" else "not helpful"
        self.view.note(f"rated the last answer {said}" + (" with your note" if note else ""))

    async def _search(self, query: str) -> None:
        if not query:
            self.view.error("/search takes the words to find")
            return
        page = await self.client.search_messages(query)
        if not page["results"]:
            self.view.note(f"no message of yours has {query!r}")
            return
        self.view.search_results([SearchHit.of(result) for result in page["results"]])
        if page["has_more"]:
            self.view.note("only the newest matches are shown: add words to narrow the search")

    async def _open(self, target: str) -> None:
        if not target:
            self.view.error("/open takes a number from /chats, or a chat id")
            return
        title = None
        if target.isdigit() and len(target) <= MAX_NUMBER_DIGITS:
            listing = self._listing or await self.client.list_chats()
            number = int(target)
            if not 1 <= number <= len(listing):
                self.view.error(f"no chat {number}: /chats lists {len(listing)}")
                return
            target, title = listing[number - 1]["id"], listing[number - 1]["title"]
        # Said first: it heads the history that opening prints.
        self.view.note(f"chat: {title}" if title else f"chat {target}")
        self._forget_shown()
        await self.client.open_chat(target)

    def _interrupt(self) -> bool:
        """Ctrl-C: stop the reply in progress; False when there is none."""
        if not self._streaming:
            return False

        async def stop() -> None:
            try:
                await self.client.stop()
            except StudyMateError as exc:
                self.view.error(f"error: {exc}")

        task = asyncio.ensure_future(stop())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    # --- the session ----------------------------------------------------------------------

    def _connect_signals(self) -> None:
        self.client.on_message.connect(self.show)
        self.client.on_history.connect(self._show_history)
        self.client.on_state.connect(self._on_state)
        self.client.on_error.connect(self._on_error)
        self.client.on_typing.connect(self._on_typing)
        self.client.on_chat_changed.connect(self._on_chat_changed)

    async def main(self) -> int:
        """Connect, run until /quit or end of input; the exit status."""
        self._connect_signals()
        keys: KeyboardInput | None = None
        try:
            try:
                await self.client.connect()
            except (ServerNotFound, StudyMateError, TimeoutError, ValueError) as exc:
                self.view.error(str(exc))
                return 2
            self.view.note(f"connected to {self.client.server.base_url}; /help for commands")
            loop = asyncio.get_running_loop()
            if self.keyboard is not None:
                keys = KeyboardInput(sys.stdin.fileno(), self.keyboard, self._interrupt)
                keys.start(loop)
                self.keyboard(keys.editor)
                lines = keys.lines
            else:
                lines = piped_lines(loop)
            while (line := await lines.get()) is not None:
                try:
                    if not await self.handle(line):
                        return 0
                except StudyMateError as exc:
                    self.view.error(f"error: {exc}")
            # End of input: let the replies already asked for finish.
            if self._pending:
                await asyncio.wait([r.done for r in list(self._pending)])
            return 0
        finally:
            self.view.close()
            if keys is not None:
                keys.restore()
            with contextlib.suppress(Exception):
                await self.client.close()
