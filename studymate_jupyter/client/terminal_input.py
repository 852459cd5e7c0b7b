"""What the user types into ``studymate chat``: lines from a pipe, or keys at a terminal.

At a terminal with the rich view, the line being typed is drawn by the view, below the reply
that streams: the terminal's own echo would be scrambled each time the reply re-renders. So
the terminal is put in non-canonical mode without echo and the keys are edited here.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import sys
import threading
from collections.abc import Callable
from typing import Any

#: One key: an escape sequence (arrows, Home, Delete…) or one character.
_SEQUENCE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|O[@-~])")
#: The start of an escape sequence cut off at the end of a read: kept for the next read.
_UNFINISHED = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*|O)?\Z")

LEFT = {"\x1b[D", "\x1bOD", "\x02"}
RIGHT = {"\x1b[C", "\x1bOC", "\x06"}
HOME = {"\x1b[H", "\x1bOH", "\x1b[1~", "\x1b[7~", "\x01"}
END = {"\x1b[F", "\x1bOF", "\x1b[4~", "\x1b[8~", "\x05"}
UP = {"\x1b[A", "\x1bOA", "\x10"}
DOWN = {"\x1b[B", "\x1bOB", "\x0e"}
BACKSPACE = {"\x7f", "\x08"}
DELETE = {"\x1b[3~"}
ENTER = {"\r", "\n"}
INTERRUPT = "\x03"
END_OF_INPUT = "\x04"
KILL_BEFORE = "\x15"
KILL_AFTER = "\x0b"
KILL_WORD = "\x17"


def piped_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines of stdin fed from a daemon thread (portable, and never blocks the loop);
    ``None`` at end of input."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="studymate-stdin", daemon=True).start()
    return queue


def split_keys(text: str) -> tuple[list[str], str]:
    """The keys in ``text``, and an escape sequence left unfinished at its end."""
    keys: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\x1b":
            sequence = _SEQUENCE.match(text, i)
            if sequence:
                keys.append(sequence.group())
                i = sequence.end()
                continue
            if _UNFINISHED.match(text, i):
                return keys, text[i:]
            # A lone Escape, or Alt with a key: the Escape is dropped, the key counts.
            i += 1
            continue
        keys.append(text[i])
        i += 1
    return keys, ""


class LineEditor:
    """The line being typed: its text, the cursor, and the lines entered before it."""

    def __init__(self) -> None:
        self.text = ""
        self.cursor = 0
        self.history: list[str] = []
        # Where Up/Down are in the history; len(history) is the line being typed.
        self._recall = 0
        self._draft = ""

    def _set(self, text: str, cursor: int | None = None) -> None:
        self.text = text
        self.cursor = len(text) if cursor is None else max(0, min(cursor, len(text)))

    def edit(self, key: str) -> bool:
        """Apply an editing key; True when the line or the cursor changed."""
        before = (self.text, self.cursor)
        text, cursor = self.text, self.cursor
        if key in BACKSPACE:
            if cursor:
                self._set(text[: cursor - 1] + text[cursor:], cursor - 1)
        elif key in DELETE or key == END_OF_INPUT:
            self._set(text[:cursor] + text[cursor + 1 :], cursor)
        elif key in LEFT:
            self._set(text, cursor - 1)
        elif key in RIGHT:
            self._set(text, cursor + 1)
        elif key in HOME:
            self._set(text, 0)
        elif key in END:
            self._set(text)
        elif key in UP or key in DOWN:
            self._browse(-1 if key in UP else 1)
        elif key == KILL_BEFORE:
            self._set(text[cursor:], 0)
        elif key == KILL_AFTER:
            self._set(text[:cursor], cursor)
        elif key == KILL_WORD:
            # As readline's Ctrl-W: the blanks before the cursor, then the word before them.
            head = text[:cursor].rstrip()
            words = head.split()
            start = len(head) - len(words[-1]) if words else 0
            self._set(text[:start] + text[cursor:], start)
        elif key == "\t" or (len(key) == 1 and key.isprintable()):
            self._set(text[:cursor] + key + text[cursor:], cursor + 1)
        return (self.text, self.cursor) != before

    def _browse(self, step: int) -> None:
        if self._recall == len(self.history):
            self._draft = self.text
        self._recall = max(0, min(self._recall + step, len(self.history)))
        recalled = self._draft if self._recall == len(self.history) else self.history[self._recall]
        self._set(recalled)

    def submit(self) -> str:
        """The line as entered; the editor starts a new, empty one."""
        line = self.text
        if line.strip() and (not self.history or self.history[-1] != line):
            self.history.append(line)
        self._recall = len(self.history)
        self._draft = ""
        self._set("")
        return line

    def clear(self) -> bool:
        """Drop the line being typed; False when it was empty already."""
        had_text = bool(self.text)
        self._set("")
        self._recall = len(self.history)
        return had_text


class KeyboardInput:
    """Lines edited at the terminal on ``fd``: the terminal does not echo, ``on_change``
    redraws the line after each key, ``on_interrupt`` is Ctrl-C (True when it was used)."""

    def __init__(
        self,
        fd: int,
        on_change: Callable[[LineEditor], None],
        on_interrupt: Callable[[], bool],
    ) -> None:
        self.fd = fd
        self.editor = LineEditor()
        self.on_change = on_change
        self.on_interrupt = on_interrupt
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._unfinished = ""
        self._saved: list[Any] | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Take the terminal out of line mode and read keys from a daemon thread."""
        import termios

        self._saved = termios.tcgetattr(self.fd)
        mode = termios.tcgetattr(self.fd)
        # Ctrl-C and Ctrl-D arrive as keys (stop the reply, leave) rather than as a signal
        # that would tear down the display; output processing (\n → \r\n) stays as it was.
        mode[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(self.fd, termios.TCSADRAIN, mode)

        def pump() -> None:
            while True:
                try:
                    data = os.read(self.fd, 1024)
                except OSError:
                    data = b""
                try:
                    loop.call_soon_threadsafe(self._feed, data)
                except RuntimeError:
                    # The chat has ended (its loop is closed): a key pressed as it left.
                    return
                if not data:
                    return

        threading.Thread(target=pump, name="studymate-keys", daemon=True).start()

    def restore(self) -> None:
        """Give the terminal back as it was."""
        if self._saved is not None:
            import termios

            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def _feed(self, data: bytes) -> None:
        if not data:
            self.lines.put_nowait(None)
            return
        keys, self._unfinished = split_keys(self._unfinished + self._decoder.decode(data))
        changed = False
        for key in keys:
            changed = self._key(key) or changed
        if changed:
            self.on_change(self.editor)

    def _key(self, key: str) -> bool:
        editor = self.editor
        if key in ENTER:
            self.lines.put_nowait(editor.submit())
            return True
        if key == END_OF_INPUT and not editor.text:
            self.lines.put_nowait(None)
            return False
        if key == INTERRUPT:
            if self.on_interrupt():
                return False
            if editor.clear():
                return True
            self.lines.put_nowait("/quit")
            return False
        return editor.edit(key)
