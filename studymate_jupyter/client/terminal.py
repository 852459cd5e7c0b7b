"""``studymate chat``: the chat in a terminal, on top of :class:`StudyMateClient`.

Lines read from stdin are sent; replies stream to stdout as they grow, then their
citations as ``[n] file p.X–Y``. Status notes go to stderr so stdout stays the transcript.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from typing import TYPE_CHECKING, TextIO

from .client import StudyMateClient
from .discovery import ServerNotFound
from .errors import StudyMateError
from .formatting import format_citations, new_suffix
from .types import FINAL_STATUSES, ConnectionState, Message

if TYPE_CHECKING:
    from .reply import Reply

HELP = """commands:
  /new         start a new chat (your next message opens it)
  /chats       list your chats
  /open ID     switch to chat ID
  /stop        stop the reply in progress
  /quit        leave (so does end of input)"""


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
    """The terminal front end: prints what the client sees, sends what the user types."""

    def __init__(
        self, client: StudyMateClient, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.client = client
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._printed: dict[str, str] = {}
        self._finished: set[str] = set()
        self._seen_users: set[str] = set()
        self._own: set[str] = set()
        self._pending: set[Reply] = set()
        self._line_open = False

    # --- output ---------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self.out, "encoding", None) or "ascii"
            self.out.write(text.replace("\u2013", "-").encode(encoding, "replace").decode(encoding))
        self.out.flush()

    def note(self, text: str) -> None:
        """A status line on stderr."""
        self.err.write(f"studymate: {text}\n")
        self.err.flush()

    def _end_line(self) -> None:
        if self._line_open:
            self._write("\n")
            self._line_open = False

    def show(self, message: Message) -> None:
        """Print a message, or the part of a streaming reply not printed yet (idempotent)."""
        if message.get("chat_id") != self.client.chat_id:
            return
        if message["role"] == "user":
            if message["id"] in self._seen_users:
                return
            self._seen_users.add(message["id"])
            if message["id"] not in self._own:
                self._end_line()
                self._write(f"you: {message['content']}\n")
            return
        mid = message["id"]
        if mid in self._finished:
            return
        content = message["content"]
        printed = self._printed.get(mid)
        if printed is None:
            self._end_line()
            self._write("studymate: ")
            printed = ""
        suffix = new_suffix(printed, content)
        if suffix is None:
            # The reply was rewritten rather than extended: print it again in full.
            self._write(f"\nstudymate: {content}")
        elif suffix:
            self._write(suffix)
        self._printed[mid] = content
        self._line_open = True
        status = message.get("status")
        if status in FINAL_STATUSES:
            self._finished.add(mid)
            self._line_open = False
            self._write("\n")
            if status == "stopped":
                self._write("[stopped]\n")
            elif status == "error":
                self._write("[error: the reply failed]\n")
            for line in format_citations(message.get("citations") or []):
                self._write(f"{line}\n")

    def _show_history(self, chat_id: str) -> None:
        if chat_id == self.client.chat_id:
            for message in self.client.messages:
                self.show(message)

    def _on_state(self, state: ConnectionState) -> None:
        if state != "connecting":
            self.note(state)

    def _on_error(self, error: StudyMateError) -> None:
        self.note(f"error: {error}")

    # --- input ----------------------------------------------------------------------------

    @staticmethod
    def _stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
        """Lines of stdin fed from a daemon thread (portable, and never blocks the loop)."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        def pump() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
            loop.call_soon_threadsafe(queue.put_nowait, None)

        threading.Thread(target=pump, name="studymate-stdin", daemon=True).start()
        return queue

    async def handle(self, line: str) -> bool:
        """Act on one input line; False to quit."""
        text = line.strip()
        if not text:
            return True
        if not text.startswith("/"):
            reply = self.client.post(line)
            self._own.add(reply.message_id)
            self._pending.add(reply)
            reply.done.add_done_callback(lambda _: self._pending.discard(reply))
            return True
        command, _, argument = text.partition(" ")
        if command == "/quit":
            return False
        if command == "/new":
            self.client.new_chat()
            self.note("new chat: your next message starts it")
        elif command == "/chats":
            for chat in await self.client.list_chats():
                mark = "*" if chat["id"] == self.client.chat_id else " "
                count = chat.get("message_count", 0)
                self._write(f"{mark} {chat['id']}  {chat['title']}  ({count} messages)\n")
        elif command == "/open" and argument.strip():
            await self.client.open_chat(argument.strip())
        elif command == "/stop":
            await self.client.stop()
        else:
            self._write(HELP + "\n")
        return True

    async def main(self) -> int:
        """Connect, run until /quit or end of input; the exit status."""
        self.client.on_message.connect(self.show)
        self.client.on_history.connect(self._show_history)
        self.client.on_state.connect(self._on_state)
        self.client.on_error.connect(self._on_error)
        try:
            await self.client.connect()
        except (ServerNotFound, StudyMateError, TimeoutError, ValueError) as exc:
            self.note(str(exc))
            await self.client.close()
            return 2
        self.note(f"connected to {self.client.server.base_url}; /help for commands")
        lines = self._stdin_lines(asyncio.get_running_loop())
        try:
            while (line := await lines.get()) is not None:
                try:
                    if not await self.handle(line):
                        return 0
                except StudyMateError as exc:
                    self.note(f"error: {exc}")
            # End of input: let the replies already asked for finish.
            if self._pending:
                await asyncio.wait([r.done for r in list(self._pending)])
            return 0
        finally:
            self._end_line()
            with contextlib.suppress(Exception):
                await self.client.close()
