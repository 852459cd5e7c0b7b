"""``studymate chat`` at a terminal: replies rendered as Markdown while they stream.

Below the transcript, a live area holds the reply in progress (or a spinner until its text
starts) and the line being typed. A finished reply is printed once, in full, into the
transcript; while it streams, the live area shows the tail that fits the screen, since a
terminal cannot redraw lines that have scrolled away. What is printed meanwhile (a command
typed, its answer, a note) is held under the reply and follows it into the transcript, so
the reply stays in one piece.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from typing import TYPE_CHECKING

from rich.console import Group
from rich.live import Live
from rich.segment import Segment
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from .formatting import format_citations
from .terminal_markdown import printable, reply_markdown
from .types import FINAL_STATUSES

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

    from ..protocol import Message
    from .terminal_input import LineEditor
    from .terminal_view import ChatRow, SearchHit
    from .types import ConnectionState

#: Seconds between redraws of a streaming reply or of the spinner: a few a second, whatever
#: the server's frame rate, so a long reply is not rendered again for every frame.
REFRESH = 0.2
PROMPT = "› "
PROMPT_STYLE = "bold cyan"
THINKING = "StudyMate is thinking…"
ABANDONED = "(still being written: open this chat again to read the rest)"

Line = list[Segment]


def _lines(console: Console, renderable: RenderableType, options: ConsoleOptions) -> list[Line]:
    return console.render_lines(renderable, options, pad=False)


class _LiveArea:
    """The bottom of the screen: the reply in progress (or the spinner), what is held under
    it, then the input line."""

    def __init__(self, view: RichView) -> None:
        self.view = view

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        view = self.view
        prompt = _lines(console, view.prompt_text(), options) if view.prompt else []
        # The cursor rests at the end of the last line, and a terminal cannot redraw what
        # scrolled off its top: all of it has to fit the screen, with a line to spare.
        budget = max(4, options.size.height - 1 - len(prompt))
        held = [line for item in view.held for line in _lines(console, item, options)]
        held = held[-(budget // 2) :]
        budget -= len(held)
        body: list[Line] = []
        if view.streaming is not None and view.streaming["content"]:
            body = view.reply_lines(console, options)
            room = max(2, budget - 2)
            if len(body) > room:
                hidden = len(body) - room + 1
                more = Text(f"↑ {hidden} more lines: the whole reply prints when it ends")
                more.stylize("dim")
                body = _lines(console, more, options) + body[hidden:]
        elif view.thinking:
            body = _lines(console, view.spinner, options)
        if body:
            # Spaced as the finished reply is printed, so that nothing moves when it is.
            body = [[], *body, []]
        lines = body + held + prompt
        for n, line in enumerate(lines):
            yield from line
            if n < len(lines) - 1:
                yield Segment.line()


class RichView:
    """The chat rendered with rich: Markdown replies, a spinner, dim citations and notes.

    ``prompt``: draw the line being typed (the terminal's echo is off, see terminal_input).
    """

    def __init__(self, console: Console, *, prompt: bool) -> None:
        self.console = console
        self.prompt = prompt
        self.editor: LineEditor | None = None
        self.streaming: Message | None = None
        self.thinking = False
        self.held: list[RenderableType] = []
        self.spinner = Spinner("dots", Text(THINKING, style="dim"), style="cyan")
        self._state: ConnectionState = "connecting"
        self._was_connected = False
        self._lines: tuple[str, int, list[Line]] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_refresh = 0.0
        self._closed = False
        self._live = Live(
            _LiveArea(self),
            console=console,
            auto_refresh=False,
            transient=True,
            vertical_overflow="crop",
        )
        self._live.start()
        with contextlib.suppress(AttributeError, NotImplementedError, RuntimeError):
            # A resized terminal gets the live area drawn again at its new width.
            asyncio.get_running_loop().add_signal_handler(signal.SIGWINCH, self.refresh)

    # --- the live area --------------------------------------------------------------------

    def prompt_text(self) -> Text:
        """The input line, with the cursor drawn as a reversed cell."""
        text = printable(self.editor.text.replace("\t", " ")) if self.editor else ""
        cursor = self.editor.cursor if self.editor else 0
        line = Text()
        if self._state in ("reconnecting", "offline"):
            line.append(f"{self._state} ", style="yellow")
        line.append(PROMPT, style=PROMPT_STYLE)
        line.append(text[:cursor])
        line.append(text[cursor : cursor + 1] or " ", style="reverse")
        line.append(text[cursor + 1 :])
        if not text:
            busy = self.streaming is not None or self.thinking
            hint = "/stop or Ctrl-C stops the reply" if busy else "/help for commands"
            line.append(hint, style="dim")
        return line

    def reply_lines(self, console: Console, options: ConsoleOptions) -> list[Line]:
        """The streaming reply rendered at this width (kept until its text or width changes)."""
        assert self.streaming is not None
        content, width = self.streaming["content"], options.max_width
        if self._lines is None or self._lines[:2] != (content, width):
            rendered = _lines(console, reply_markdown(content), options.update(height=None))
            self._lines = (content, width, rendered)
        return self._lines[2]

    def input_changed(self, editor: LineEditor) -> None:
        """Redraw the input line at once: typing must not lag."""
        self.editor = editor
        self.refresh()

    def refresh(self) -> None:
        """Redraw the live area now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._closed:
            return
        self._last_refresh = time.monotonic()
        self._live.refresh()
        if self.thinking:
            # Keep the spinner turning.
            self._timer = asyncio.get_running_loop().call_later(REFRESH, self.refresh)

    def _refresh_soon(self) -> None:
        if self._timer is None and not self._closed:
            delay = max(0.0, self._last_refresh + REFRESH - time.monotonic())
            self._timer = asyncio.get_running_loop().call_later(delay, self.refresh)

    def _holding(self) -> bool:
        return self.streaming is not None and bool(self.streaming["content"])

    def _print(self, renderable: RenderableType) -> None:
        if self._closed:
            # The client going offline as it leaves is no news.
            return
        if self._holding():
            self.held.append(renderable)
            self.refresh()
        else:
            # Above the live area, which rich draws again below it.
            self.console.print(renderable)

    def _release(self) -> None:
        """Print what was held under a reply that has now gone into the transcript."""
        if self.held and not self._holding():
            held, self.held = self.held, []
            self.console.print(Group(*held))

    def _abandon(self) -> None:
        """Put a reply that is still streaming into the transcript as it stands."""
        if self._holding():
            assert self.streaming is not None
            partial, self.streaming = self.streaming, None
            self.console.print(self._final_reply(partial, abandoned=True))
        self.streaming = None
        self._lines = None
        self.thinking = False
        self._release()

    # --- TerminalView -----------------------------------------------------------------------

    def typed(self, line: str) -> None:
        self._print(self._user_line(line))

    def user(self, message: Message) -> None:
        self._print(self._user_line(message["content"]))

    @staticmethod
    def _user_line(content: str) -> Text:
        line = Text(PROMPT, style=PROMPT_STYLE)
        line.append(printable(content), style="bold")
        return line

    def reply(self, message: Message) -> None:
        if message.get("status") not in FINAL_STATUSES:
            if self.streaming is not None and self.streaming["id"] != message["id"]:
                self._abandon()
            self.streaming = message
            if message["content"]:
                self.thinking = False
                self._refresh_soon()
            else:
                self.thinking = True
                self.refresh()
            return
        if self.streaming is not None and self.streaming["id"] == message["id"]:
            self.streaming = None
            self._lines = None
        self.thinking = False
        self._print(self._final_reply(message))
        self._release()
        self.refresh()

    @staticmethod
    def _final_reply(message: Message, *, abandoned: bool = False) -> Group:
        parts: list[RenderableType] = [Text()]
        if message["content"].strip():
            parts.append(reply_markdown(message["content"]))
        status = message.get("status")
        if abandoned:
            parts.append(Text(ABANDONED, style="dim italic"))
        elif status == "stopped":
            parts.append(Text("(stopped)", style="dim italic"))
        elif status == "error":
            parts.append(Text("The reply failed.", style="red"))
        citations = format_citations(message.get("citations") or [])
        if citations:
            parts.append(Text())
            parts.append(Text(printable("\n".join(citations)), style="dim"))
        parts.append(Text())
        return Group(*parts)

    def typing(self, is_typing: bool) -> None:
        if is_typing and not self._holding() and not self.thinking:
            self.thinking = True
            self.refresh()
        elif not is_typing and self.thinking:
            self.thinking = False
            self.refresh()

    def chat_changed(self) -> None:
        self._abandon()
        self.refresh()

    def state(self, state: ConnectionState) -> None:
        previous, self._state = self._state, state
        if state in ("reconnecting", "offline") and previous != state:
            self._print(Text(f"{state}…" if state == "reconnecting" else state, style="yellow"))
        elif state == "connected" and self._was_connected and previous != "connected":
            self.note("connected again")
        self._was_connected = self._was_connected or state == "connected"
        self.refresh()

    def note(self, text: str) -> None:
        self._print(Text(printable(text), style="dim"))

    def error(self, text: str) -> None:
        self._print(Text(printable(text), style="red"))

    def chats(self, rows: list[ChatRow]) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", style="bold")
        table.add_column(no_wrap=True, overflow="ellipsis")
        table.add_column(style="dim", no_wrap=True)
        table.add_column(style="dim", no_wrap=True)
        for row in rows:
            chat = row.chat
            count = chat.get("message_count", 0)
            table.add_row(
                Text(f"{'*' if row.current else ' '}{row.number}"),
                Text(printable(chat["title"]), style="cyan" if row.current else ""),
                Text(f"{count} message{'' if count == 1 else 's'}"),
                Text(chat["id"]),
            )
        self._print(table)

    def help(self, text: str) -> None:
        self._print(Text(text))

    def search_results(self, hits: list[SearchHit]) -> None:
        lines: list[RenderableType] = []
        for hit in hits:
            heading = Text(printable(hit.chat_title), style="cyan")
            heading.append(f" · {hit.role} · {hit.when}", style="dim")
            # One character for one (printable() drops carriage returns): the marks still fit.
            snippet = Text("    " + printable(hit.snippet.replace("\r", " ")))
            for start, end in hit.marks:
                snippet.stylize("bold", start + 4, end + 4)
            lines += [heading, snippet]
        self._print(Group(*lines))

    def close(self) -> None:
        if self._closed:
            return
        self._abandon()
        self.refresh()
        self._closed = True
        with contextlib.suppress(AttributeError, NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGWINCH)
        self._live.stop()
