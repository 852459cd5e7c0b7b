"""``studymate chat``: the chat in a terminal, on top of :class:`StudyMateClient`.

Lines read from stdin are sent; lines starting with ``/`` are commands (:data:`HELP`).
Replies stream as text (:mod:`.terminal_plain`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING

from .client import StudyMateClient
from .discovery import ServerNotFound
from .errors import StudyMateError
from .terminal_input import piped_lines
from .terminal_plain import PlainView
from .terminal_view import ChatRow, TerminalView
from .types import FINAL_STATUSES, Chat, ConnectionState, Message, TypingEventData

if TYPE_CHECKING:
    from .reply import Reply

HELP = """commands:
  /new         start a new chat (your next message opens it)
  /chats       list your chats, newest first, numbered
  /open N      switch to chat N of the last /chats list (or /open ID)
  /stop        stop the reply in progress
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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    client = StudyMateClient(args.url, args.token, chat_id=args.chat_id)
    return asyncio.run(TerminalChat(client).main())


class TerminalChat:
    """The terminal front end: shows what the client sees, sends what the user types."""

    def __init__(self, client: StudyMateClient, view: TerminalView | None = None) -> None:
        self.client = client
        self.view: TerminalView = view or PlainView(sys.stdout, sys.stderr)
        self._finished: set[str] = set()
        self._seen_users: set[str] = set()
        self._own: set[str] = set()
        self._pending: set[Reply] = set()
        self._listing: list[Chat] = []

    # --- what the client sees -------------------------------------------------------------

    def show(self, message: Message) -> None:
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
        self.view.reply(message)

    def _show_history(self, chat_id: str) -> None:
        if chat_id == self.client.chat_id:
            for message in self.client.messages:
                self.show(message)

    def _on_typing(self, data: TypingEventData) -> None:
        if data.get("chat_id") == self.client.chat_id and data.get("user_id") == "assistant":
            self.view.typing(bool(data.get("is_typing")))

    def _on_chat_changed(self, _chat_id: str | None) -> None:
        self._forget_shown()
        self.view.chat_changed()

    def _forget_shown(self) -> None:
        """Let a chat opened (again) show its whole history."""
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
        try:
            try:
                await self.client.connect()
            except (ServerNotFound, StudyMateError, TimeoutError, ValueError) as exc:
                self.view.error(str(exc))
                return 2
            self.view.note(f"connected to {self.client.server.base_url}; /help for commands")
            lines = piped_lines(asyncio.get_running_loop())
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
            with contextlib.suppress(Exception):
                await self.client.close()
