"""Searching one's own chats: the results list, each hit a button that opens its chat at it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as w

from ..client.formatting import local_time
from .render import escape

if TYPE_CHECKING:
    from ..protocol import MessageSearchPage, MessageSearchResult

HIDDEN = "none"
_ROLE = {"user": "you", "assistant": "StudyMate"}


def snippet_html(snippet: str, marks: list[tuple[int, int]] | list[list[int]]) -> str:
    """The plain-text snippet escaped, its matched words bold (the only markup added)."""
    out: list[str] = []
    at = 0
    for start, end in sorted((max(0, s), min(len(snippet), e)) for s, e in marks):
        if end <= start or start < at:
            continue  # empty, out of range, or overlapping one already marked
        out.append(escape(snippet[at:start]))
        out.append(f"<b>{escape(snippet[start:end])}</b>")
        at = end
    out.append(escape(snippet[at:]))
    return "".join(out)


def result_label(result: MessageSearchResult) -> str:
    """``Linear algebra · you · 2026-11-26 09:00`` (a button's label: text, not HTML)."""
    role = _ROLE.get(result["role"], result["role"])
    return f"{result['chat_title']} · {role} · {local_time(result['timestamp'])}"


class SearchResults:
    """The hits of the last search, newest first; choosing one calls ``open_result``."""

    def __init__(self, open_result: Callable[[MessageSearchResult], None]) -> None:
        self._open = open_result
        self.results: list[MessageSearchResult] = []
        self.heading = w.HTML("")
        self.close_button = w.Button(
            description="Close", icon="times", layout=w.Layout(width="auto")
        )
        self.close_button.on_click(lambda _button: self.hide())
        self.rows = w.VBox([], layout=w.Layout(max_height="240px", overflow_y="auto"))
        self.box = w.VBox(
            [w.HBox([self.heading, self.close_button]), self.rows],
            layout=w.Layout(
                border="1px solid var(--jp-border-color1, #ccc)", padding="4px", display=HIDDEN
            ),
        )

    def show(self, query: str, page: MessageSearchPage) -> None:
        self.results = list(page["results"])
        count = len(self.results)
        if count == 0:
            said = f"No message of yours matches “{escape(query)}”."
        else:
            more = " (the newest; there are more)" if page["has_more"] else ""
            plural = "" if count == 1 else "es"
            said = f"{count} match{plural} for “{escape(query)}”{more}:"
        self.heading.value = f"<b>{said}</b>"
        for row in self.rows.children:
            for part in row.children:
                part.close()
            row.close()
        self.rows.children = [self._row(result) for result in self.results]
        self.box.layout.display = None

    def show_error(self, text: str) -> None:
        self.results = []
        self.heading.value = f'<span style="color: #c62828">{escape(text)}</span>'
        self.rows.children = []
        self.box.layout.display = None

    def _row(self, result: MessageSearchResult) -> w.VBox:
        button = w.Button(
            description=result_label(result),
            tooltip="Open this chat at this message",
            layout=w.Layout(width="auto", max_width="100%"),
        )
        button.on_click(lambda _button: self._open(result))
        snippet = w.HTML(
            f"<small>{snippet_html(result['snippet'], result['marks'])}</small>",
            layout=w.Layout(margin="0 0 4px 8px"),
        )
        return w.VBox([button, snippet])

    def hide(self) -> None:
        self.box.layout.display = HIDDEN

    def close(self) -> None:
        for row in self.rows.children:
            for part in row.children:
                part.close()
            row.close()
        for widget in (self.heading, self.close_button, self.rows, *self.box.children, self.box):
            widget.close()
