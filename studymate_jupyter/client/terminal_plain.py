"""``studymate chat --plain`` (and any chat whose stdout is not a terminal): plain text.

Replies stream to stdout as raw Markdown as they grow, then their citations as
``[n] file p.X–Y``. Status notes go to stderr so stdout stays the transcript: scripts
and pipes read it line by line.
"""

from __future__ import annotations

from typing import TextIO

from ..protocol import Message
from .formatting import format_citations, new_suffix
from .terminal_view import ChatRow, SearchHit
from .types import FINAL_STATUSES, ConnectionState


class PlainView:
    """The transcript as text: ``you: …`` and ``studymate: …`` lines, citations after."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self._printed: dict[str, str] = {}
        self._line_open = False

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self.out, "encoding", None) or "ascii"
            self.out.write(text.replace("\u2013", "-").encode(encoding, "replace").decode(encoding))
        self.out.flush()

    def _end_line(self) -> None:
        if self._line_open:
            self._write("\n")
            self._line_open = False

    def typed(self, line: str) -> None:
        # The terminal echoed it, or it came from a script that knows what it sent.
        pass

    def user(self, message: Message) -> None:
        self._end_line()
        self._write(f"you: {message['content']}\n")

    def reply(self, message: Message) -> None:
        mid = message["id"]
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
            del self._printed[mid]
            self._line_open = False
            self._write("\n")
            if status == "stopped":
                self._write("[stopped]\n")
            elif status == "error":
                self._write("[error: the reply failed]\n")
            for line in format_citations(message.get("citations") or []):
                self._write(f"{line}\n")

    def typing(self, is_typing: bool) -> None:
        pass

    def chat_changed(self) -> None:
        pass

    def state(self, state: ConnectionState) -> None:
        if state != "connecting":
            self.note(state)

    def note(self, text: str) -> None:
        self.err.write(f"studymate: {text}\n")
        self.err.flush()

    def error(self, text: str) -> None:
        self.note(text)

    def chats(self, rows: list[ChatRow]) -> None:
        # The number first (what /open N takes), then the id (what --chat and /open take).
        for row in rows:
            mark = "*" if row.current else " "
            chat = row.chat
            count = chat.get("message_count", 0)
            self._write(
                f"{mark} {row.number:>2}  {chat['id']}  {chat['title']}  ({count} messages)\n"
            )

    def help(self, text: str) -> None:
        self._write(text + "\n")

    def search_results(self, hits: list[SearchHit]) -> None:
        # Two lines a hit: where it is, then the words around the match (plain, unmarked).
        for hit in hits:
            self._write(f"{hit.heading}\n    {hit.snippet}\n")

    def close(self) -> None:
        self._end_line()
