"""Message text made safe and rendered for a terminal, by rich.

Message text reaches rich only through :func:`reply_markdown` or as a
:class:`~rich.text.Text`, never as console markup: ``[bold]`` in a reply is text, and so is
HTML. Control characters are neutralised first, since a document could hold escape
sequences that the terminal would obey.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from markdown_it import MarkdownIt
from rich.markdown import Heading, Markdown, MarkdownElement

if TYPE_CHECKING:
    from rich.console import JustifyMethod

CODE_THEME = "monokai"

# An escape sequence in a message could move the cursor or retitle the window: show the
# control characters (but tab and newline) as U+FFFD instead, and drop carriage returns.
_CONTROLS: dict[int, str | None] = {
    c: "\ufffd" for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))
}
_CONTROLS[0x0D] = None

# rich parses with HTML on and then drops the HTML; with it off, HTML stays visible text.
_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")


def printable(text: str) -> str:
    """``text`` with its control characters made harmless."""
    return text.translate(_CONTROLS)


class _LeftHeading(Heading):
    """A heading at the left margin: rich centres level 1, which reads oddly in a chat."""

    LEVEL_ALIGN: ClassVar[dict[str, JustifyMethod]] = dict.fromkeys(Heading.LEVEL_ALIGN, "left")


class ReplyMarkdown(Markdown):
    """A message's Markdown as rich renders it, with HTML shown as the text it is and links
    followed by their address (a terminal may not show where a hyperlink goes)."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements,
        "heading_open": _LeftHeading,
    }

    def __init__(self, text: str) -> None:
        super().__init__("", code_theme=CODE_THEME, hyperlinks=False)
        self.markup = text
        self.parsed = _PARSER.parse(text)


def reply_markdown(content: str) -> ReplyMarkdown:
    """The renderable of a message's content."""
    return ReplyMarkdown(printable(content))
