"""Under each answer: its reactions with counts, a small emoji picker, and thumbs up or down
with an optional note (stock ipywidgets only; every text here is a button label, a tooltip
or escaped HTML)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from ..protocol import MAX_FEEDBACK_NOTE, REACTION_EMOJI
from .render import escape

if TYPE_CHECKING:
    from ..protocol import Feedback, Message, Rating

HIDDEN = "none"
_SMALL = {"width": "auto", "margin": "0 2px 0 0", "padding": "0 6px"}

#: What the user did: ``react(emoji, on)`` and ``rate(rating, note)`` (``None`` takes a
#: rating back), called on the kernel's thread.
React = Callable[[str, bool], None]
Rate = Callable[["Rating | None", "str | None"], None]


def _show(widget: Any, visible: bool) -> None:
    display = None if visible else HIDDEN
    if widget.layout.display != display:
        widget.layout.display = display


def who_reacted(users: list[str], me: str | None) -> str:
    """A reaction button's tooltip: ``You and bob``, ``alice``…"""
    names = ["You" if user == me else user for user in users]
    names.sort(key=lambda name: name != "You")
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class AnswerFeedback:
    """The bar under one answer; ``update`` draws a new state of its message."""

    def __init__(self, react: React, rate: Rate) -> None:
        self._react = react
        self._rate = rate
        self._drawn: tuple[object, ...] | None = None
        self.reactions: dict[str, list[str]] = {}
        self.feedback: Feedback | None = None
        self.me: str | None = None
        #: The rating last chosen here, which a note is sent with (its frame may be on its way).
        self._chosen: Rating | None = None
        self.counts = w.HBox([], layout=w.Layout(flex_flow="row wrap"))
        self._count_buttons: dict[str, w.Button] = {}
        self.add_button = w.Button(
            description="☺+", tooltip="Add a reaction", layout=w.Layout(**_SMALL)
        )
        self.add_button.on_click(lambda _button: self.toggle_picker())
        # Built when first opened: ten buttons under every answer of a long chat add up.
        self.picker = w.HBox([], layout=w.Layout(flex_flow="row wrap", display=HIDDEN))
        self.up = w.Button(icon="thumbs-up", tooltip="Helpful", layout=w.Layout(**_SMALL))
        self.down = w.Button(icon="thumbs-down", tooltip="Not helpful", layout=w.Layout(**_SMALL))
        self.up.on_click(lambda _button: self._thumb("up"))
        self.down.on_click(lambda _button: self._thumb("down"))
        self.note = w.Text(
            placeholder="Add a note (optional): what was good, missing or wrong?",
            layout=w.Layout(flex="1 1 auto", width="auto"),
        )
        self.send_note = w.Button(description="Send note", layout=w.Layout(width="auto"))
        self.send_note.on_click(lambda _button: self.submit_note())
        self.note_row = w.HBox([self.note, self.send_note], layout=w.Layout(display=HIDDEN))
        self.your_note = w.HTML("", layout=w.Layout(display=HIDDEN))
        self.box = w.VBox(
            [
                w.HBox(
                    [self.counts, self.add_button, self.up, self.down],
                    layout=w.Layout(align_items="center", flex_flow="row wrap"),
                ),
                self.picker,
                self.your_note,
                self.note_row,
            ],
            layout=w.Layout(margin="0 0 0 12px"),
        )

    # --- drawing -------------------------------------------------------------------------

    def update(self, message: Message, me: str | None) -> None:
        reactions = dict(message.get("reactions") or {})
        feedback = message.get("feedback")
        drawn = (tuple((e, tuple(u)) for e, u in reactions.items()), repr(feedback), me)
        if drawn == self._drawn:
            return
        self._drawn = drawn
        self.reactions, self.feedback, self.me = reactions, feedback, me
        self._draw_counts()
        self._draw_picker()
        rating = feedback["rating"] if feedback else None
        for button, value in ((self.up, "up"), (self.down, "down")):
            style = ("success" if value == "up" else "danger") if rating == value else ""
            if button.button_style != style:
                button.button_style = style
        note = feedback.get("note") if feedback else None
        html = f"<small><i>Your note: {escape(note)}</i></small>" if note else ""
        if self.your_note.value != html:
            self.your_note.value = html
        _show(self.your_note, bool(note))
        if rating is None:
            _show(self.note_row, False)

    def _draw_counts(self) -> None:
        order = [e for e in REACTION_EMOJI if e in self.reactions]
        order += [e for e in self.reactions if e not in order]
        buttons = []
        for emoji in order:
            users = self.reactions[emoji]
            if not users:
                continue
            button = self._count_buttons.get(emoji)
            if button is None:
                button = w.Button(layout=w.Layout(**_SMALL))
                button.on_click(lambda _button, e=emoji: self.toggle(e))
                self._count_buttons[emoji] = button
            button.description = f"{emoji} {len(users)}"
            button.tooltip = who_reacted(users, self.me)
            button.button_style = "info" if self.me in users else ""
            buttons.append(button)
        if tuple(buttons) != tuple(self.counts.children):
            self.counts.children = buttons

    def _draw_picker(self) -> None:
        for button in self.picker.children:
            mine = self.me in self.reactions.get(button.description, [])
            button.button_style = "info" if mine else ""

    # --- what the user does (the kernel's thread) ------------------------------------------

    def mine(self, emoji: str) -> bool:
        return self.me is not None and self.me in self.reactions.get(emoji, [])

    def toggle(self, emoji: str) -> None:
        """Put ``emoji`` on the answer, or take it off if it is the user's already."""
        self._react(emoji, not self.mine(emoji))

    def toggle_picker(self) -> None:
        if not self.picker.children:
            buttons = []
            for emoji in REACTION_EMOJI:
                button = w.Button(description=emoji, layout=w.Layout(**_SMALL))
                button.on_click(lambda _button, e=emoji: self._pick(e))
                buttons.append(button)
            self.picker.children = buttons
            self._draw_picker()
        _show(self.picker, self.picker.layout.display == HIDDEN)

    def _pick(self, emoji: str) -> None:
        _show(self.picker, False)
        self.toggle(emoji)

    def _thumb(self, rating: Rating) -> None:
        current = self.feedback["rating"] if self.feedback else None
        if current == rating:
            self._chosen = None
            self._rate(None, None)  # the same thumb again takes the rating back
            _show(self.note_row, False)
            return
        note = self.feedback.get("note") if self.feedback else None
        self._chosen = rating
        self._rate(rating, note)  # a new rating keeps the note written before
        self.note.value = note or ""
        _show(self.note_row, True)

    def submit_note(self) -> None:
        """Send the rating with the note typed (at most 1,000 characters)."""
        rating = self._chosen or (self.feedback["rating"] if self.feedback else None)
        if rating is None:
            return
        note = self.note.value.strip()[:MAX_FEEDBACK_NOTE] or None
        self._rate(rating, note)
        _show(self.note_row, False)

    def close(self) -> None:
        for widget in (
            *self.counts.children,
            *self._count_buttons.values(),
            *self.picker.children,
            self.counts,
            self.add_button,
            self.picker,
            self.up,
            self.down,
            self.note,
            self.send_note,
            self.note_row,
            self.your_note,
            *self.box.children,
            self.box,
        ):
            widget.close()
