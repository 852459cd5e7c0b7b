"""The widgets of one message and of the citation preview (stock ipywidgets only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .citations import chip_label, chip_tooltip
from .reactions import AnswerFeedback
from .render import escape, render_markdown

if TYPE_CHECKING:
    from ..protocol import Citation, Message, Rating

#: What the user did about a message: react(message, emoji, on), rate(message, rating, note).
OnReact = Callable[["Message", str, bool], None]
OnRate = Callable[["Message", "Rating | None", "str | None"], None]
HIGHLIGHT = "studymate-highlight"
_HIGHLIGHT_BORDER = "2px solid var(--jp-warn-color1, #f57c00)"

HIDDEN = "none"

_BUBBLE = {
    "user": "background: var(--jp-layout-color2, #eee); border-radius: 6px; padding: 2px 10px;",
    "assistant": "border-left: 3px solid var(--jp-brand-color1, #1976d2); padding: 2px 10px;",
}
_STATUS_NOTES = {
    "streaming": '<span title="streaming">▍</span>',
    "stopped": "<p><i>(stopped)</i></p>",
    "error": "<p><i>The reply failed.</i></p>",
    "sending": "<p><small><i>sending…</i></small></p>",
}


def show(widget: Any, visible: bool) -> None:
    """Show or hide a widget without removing it (one small layout update)."""
    display = None if visible else HIDDEN
    if widget.layout.display != display:
        widget.layout.display = display


def message_html(message: Message) -> str:
    """A message as sanitized HTML: who, the Markdown content, and its state."""
    role = message.get("role", "user")
    who = "You" if role == "user" else "StudyMate"
    status = str(message.get("status", "complete"))
    body = render_markdown(message.get("content", ""))
    note = _STATUS_NOTES.get(status, "")
    return f'<div style="{_BUBBLE.get(role, "")}"><b>{escape(who)}</b>{body}{note}</div>'


class MessageView:
    """One message in the list: its rendered body, its citation chips, Retry after an error,
    and under a finished answer its reactions and the user's rating (``feedback``)."""

    def __init__(
        self,
        message: Message,
        on_citation: Callable[[int, Citation], None],
        on_retry: Callable[[Message], None],
        on_react: OnReact | None = None,
        on_rate: OnRate | None = None,
        me: str | None = None,
    ) -> None:
        self.message_id = message["id"]
        self._on_citation = on_citation
        self._on_retry = on_retry
        self._signature: tuple[object, ...] | None = None
        self.message: Message = message
        self.me = me
        self.highlighted = False
        self.feedback: AnswerFeedback | None = None
        if message.get("role") == "assistant" and on_react is not None and on_rate is not None:
            react, rate = on_react, on_rate
            self.feedback = AnswerFeedback(
                lambda emoji, on: react(self.message, emoji, on),
                lambda rating, note: rate(self.message, rating, note),
            )
        # HTMLMath renders the TeX that render_markdown leaves in place.
        self.body = w.HTMLMath(message_html(message), layout=w.Layout(margin="2px 0"))
        self.chips = w.HBox([], layout=w.Layout(flex_flow="row wrap", display=HIDDEN))
        self.retry = w.Button(
            description="Retry",
            icon="refresh",
            tooltip="Ask the question again",
            layout=w.Layout(width="auto", display=HIDDEN),
        )
        self.retry.on_click(lambda _button: self._on_retry(self.message))
        parts = [self.body, self.chips, self.retry]
        if self.feedback is not None:
            parts.append(self.feedback.box)
        self.row = w.VBox(parts, layout=w.Layout(margin="4px 0"))
        self._signature = self._sign(message)
        self._update_parts(message)
        self._update_feedback(message)

    @staticmethod
    def _sign(message: Message) -> tuple[object, ...]:
        citations = tuple(
            (c.get("chunk_id"), c.get("page_start"), c.get("page_end"))
            for c in message.get("citations") or []
        )
        return (message.get("content"), message.get("status"), citations)

    def update(self, message: Message, me: str | None = None) -> bool:
        """Show the message's new state; False when its body, chips and Retry did not change
        (its reactions and rating are drawn either way)."""
        self.message = message
        self.me = me or self.me
        self._update_feedback(message)
        signature = self._sign(message)
        if signature == self._signature:
            return False
        self._signature = signature
        self.body.value = message_html(message)
        self._update_parts(message)
        return True

    def _update_parts(self, message: Message) -> None:
        citations = list(message.get("citations") or [])
        if len(citations) != len(self.chips.children):
            self.chips.children = [self._chip(n, c) for n, c in enumerate(citations, start=1)]
        show(self.chips, bool(citations))
        show(self.retry, message.get("role") == "assistant" and message.get("status") == "error")

    def _update_feedback(self, message: Message) -> None:
        if self.feedback is None:
            return
        finished = message.get("status") not in ("streaming", "sending")
        show(self.feedback.box, finished)
        if finished:
            self.feedback.update(message, self.me)

    def set_highlight(self, on: bool) -> None:
        """Mark the message (a search hit opened) with a border the browser scrolls to."""
        if on == self.highlighted:
            return
        self.highlighted = on
        self.row.layout.border = _HIGHLIGHT_BORDER if on else None
        if on:
            self.row.add_class(HIGHLIGHT)
        else:
            self.row.remove_class(HIGHLIGHT)

    def _chip(self, number: int, citation: Citation) -> Any:
        chip = w.Button(
            description=chip_label(number, citation),
            tooltip=chip_tooltip(citation),
            layout=w.Layout(width="auto", margin="2px 4px 2px 0"),
        )
        chip.on_click(lambda _button: self._on_citation(number, citation))
        return chip

    def close(self) -> None:
        for chip in self.chips.children:
            chip.close()
        if self.feedback is not None:
            self.feedback.close()
        for widget in (self.body, self.chips, self.retry, self.row):
            widget.close()


class PreviewView:
    """The cited passage: a title, the text, and a link to the file at its page."""

    def __init__(self) -> None:
        self.title = w.HTML("")
        self.body = w.HTMLMath(
            "", layout=w.Layout(max_height="260px", overflow_y="auto", padding="0 8px")
        )
        self.link = w.HTML("")
        self.close_button = w.Button(
            description="Close", icon="times", layout=w.Layout(width="auto")
        )
        self.close_button.on_click(lambda _button: self.hide())
        self.box = w.VBox(
            [w.HBox([self.title, self.close_button]), self.body, self.link],
            layout=w.Layout(
                border="1px solid var(--jp-border-color1, #ccc)", padding="4px", display=HIDDEN
            ),
        )

    def show(self, title: str, body: str, link: str) -> None:
        self.title.value = title
        self.body.value = body
        self.link.value = link
        show(self.box, True)

    def hide(self) -> None:
        show(self.box, False)
