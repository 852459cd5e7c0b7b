"""What the panel shows: its widgets and how a state of the chat is drawn into them.

``Screen`` knows nothing of the client or its thread; ``ChatPanel`` drives it, always under
``self._lock``, and supplies the user-action callbacks.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .question import QuestionBox
from .render import escape
from .scope import WHOLE_LIBRARY, describe, scope_options, value_of
from .views import MessageView, PreviewView, show

if TYPE_CHECKING:
    from ..client.types import Chat
    from ..protocol import ChatScope, Citation, Document, Message

_INDICATOR = {
    "connecting": ("#b26a00", "connecting…"),
    "connected": ("#2e7d32", "connected"),
    "reconnecting": ("#b26a00", "reconnecting…"),
    "offline": ("#c62828", "offline"),
    "in-process": ("#1565c0", "in-process"),
}
NEW_CHAT = ""  # the picker's value for "a new chat" (its first message creates it)


class Screen:
    """The widgets of a chat panel (header, messages, typing, errors, input, preview)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._views: dict[str, MessageView] = {}
        self._chats: list[Chat] = []
        #: The library's ready documents, which the "Draws on" dropdown offers.
        self._documents: list[Document] = []
        #: What a new chat will draw on once its first question creates it.
        self._pending_scope: ChatScope | None = None
        #: What the "Draws on" dropdown was last drawn from: the header is redrawn many times a
        #: second while a reply streams, and its options only change with these.
        self._scope_drawn: tuple[list[Document], str] | None = None
        self._typing = False
        self._streaming = False
        self._retry_text: str | None = None
        self._syncing_picker = False
        self._build_widgets()

    def _build_widgets(self) -> None:
        self.title = w.HTML("<b>New chat</b>", layout=w.Layout(flex="1 1 auto"))
        self.status = w.HTML(self._indicator_html("connecting", None))
        self.picker = w.Dropdown(
            options=[("New chat", NEW_CHAT)], value=NEW_CHAT, layout=w.Layout(width="14em")
        )
        self.picker.observe(self._on_pick, names="value")
        self.new_chat_button = w.Button(
            description="New chat", icon="plus", layout=w.Layout(width="auto")
        )
        self.new_chat_button.on_click(lambda _button: self._on_new_chat())
        self.scope_picker = w.Dropdown(
            description="Draws on",
            options=[("Whole library", WHOLE_LIBRARY)],
            value=WHOLE_LIBRARY,
            style={"description_width": "initial"},
            layout=w.Layout(width="auto", max_width="100%"),
        )
        self.scope_picker.observe(self._on_scope, names="value")
        self.header = w.VBox(
            [
                w.HBox(
                    [self.title, self.status, self.picker, self.new_chat_button],
                    layout=w.Layout(align_items="center"),
                ),
                self.scope_picker,
            ]
        )
        self.message_list = w.VBox(
            [], layout=w.Layout(max_height="480px", overflow_y="auto", padding="0 4px")
        )
        self.typing_indicator = w.HTML("", layout=w.Layout(display="none"))
        self.error = w.HTML("")
        self.retry_button = w.Button(
            description="Retry", icon="refresh", layout=w.Layout(width="auto")
        )
        self.retry_button.on_click(lambda _button: self._retry())
        self.error_bar = w.HBox([self.error, self.retry_button], layout=w.Layout(display="none"))
        self.input = QuestionBox(
            placeholder="Ask about your course material… (Enter sends, Shift+Enter: new line)",
            layout=w.Layout(flex="1 1 auto", width="auto"),
        )
        self.input.on_submit(lambda _text: self._send_input())
        self.send_button = w.Button(
            description="Send",
            icon="paper-plane",
            button_style="primary",
            layout=w.Layout(width="auto"),
        )
        self.send_button.on_click(lambda _button: self._send_input())
        self.stop_button = w.Button(
            description="Stop",
            icon="stop",
            button_style="warning",
            layout=w.Layout(width="auto", display="none"),
        )
        self.stop_button.on_click(lambda _button: self._on_stop())
        self.input_row = w.HBox([self.input, self.send_button, self.stop_button])
        self.preview = PreviewView()
        self.widget = w.VBox(
            [
                self.header,
                self.message_list,
                self.typing_indicator,
                self.error_bar,
                self.input_row,
                self.preview.box,
            ],
            layout=w.Layout(border="1px solid var(--jp-border-color2, #ddd)", padding="4px"),
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @staticmethod
    def _indicator_html(state: str, reason: str | None) -> str:
        color, label = _INDICATOR.get(state, ("#777", state))
        hint = f"{reason}: StudyMate runs in this kernel" if reason else label
        return (
            f'<span title="{escape(hint)}" style="color: {color}; white-space: nowrap">'
            f"● {escape(label)}</span>" + (f" <small>{escape(reason)}</small>" if reason else "")
        )

    # --- drawing (under self._lock) ---------------------------------------------------------

    def _render_messages(self, shown: list[Message]) -> None:
        keep: dict[str, MessageView] = {}
        rows = []
        for message in shown:
            view = self._views.get(message["id"])
            if view is None:
                view = MessageView(message, self._on_chip, self._on_retry)
            else:
                view.update(message)
            keep[message["id"]] = view
            rows.append(view.row)
        if tuple(rows) != tuple(self.message_list.children):
            self.message_list.children = rows
        for message_id, view in self._views.items():
            if message_id not in keep:
                view.close()
        self._views = keep

    def _update_typing(self) -> None:
        thinking = self._typing
        text = "StudyMate is writing…" if self._streaming else "StudyMate is thinking…"
        value = f"<i>{text}</i>" if thinking else ""
        if self.typing_indicator.value != value:
            self.typing_indicator.value = value
        show(self.typing_indicator, thinking)
        show(self.stop_button, thinking or self._streaming)

    def _render_header(self, chat_id: str | None) -> None:
        chat = next((c for c in self._chats if c["id"] == chat_id), None)
        title = chat["title"] if chat else ("New chat" if chat_id is None else "Chat")
        html = f"<b>{escape(title)}</b>"
        if self.title.value != html:
            self.title.value = html
        options = [("New chat", NEW_CHAT)] + [(c["title"], c["id"]) for c in self._chats]
        if chat_id is not None and chat is None:
            options.append((title, chat_id))
        scope = chat.get("scope") if chat else self._pending_scope
        self._syncing_picker = True
        try:
            if tuple(options) != tuple(self.picker.options):
                self.picker.options = options
            value = chat_id or NEW_CHAT
            if self.picker.value != value:
                self.picker.value = value
            self._render_scope(scope)
        finally:
            self._syncing_picker = False

    def _render_scope(self, scope: ChatScope | None) -> None:
        value = value_of(scope)
        drawn = self._scope_drawn
        if drawn is None or drawn[0] is not self._documents or drawn[1] != value:
            self._scope_drawn = (self._documents, value)
            options = scope_options(self._documents, scope)
            if tuple(options) != tuple(self.scope_picker.options):
                self.scope_picker.options = options
            self.scope_picker.tooltip = f"This chat draws on: {describe(scope, self._documents)}"
        # Always: a choice the server refused must go back to what the chat draws on.
        if self.scope_picker.value != value:
            self.scope_picker.value = value

    def _show_error(self, text: str, retry_text: str | None) -> None:
        with self._lock:
            if retry_text is not None:
                self._retry_text = retry_text
            self.error.value = f'<span style="color: #c62828">{escape(text)}</span>'
            show(self.retry_button, self._retry_text is not None)
            show(self.error_bar, True)

    def _clear_error(self) -> None:
        with self._lock:
            self._retry_text = None
            show(self.error_bar, False)

    # --- user actions: ChatPanel hands them to the client's loop ----------------------------

    def _on_pick(self, change: dict[str, Any]) -> None:
        raise NotImplementedError

    def _on_new_chat(self) -> None:
        raise NotImplementedError

    def _on_scope(self, change: dict[str, Any]) -> None:
        raise NotImplementedError

    def _send_input(self) -> None:
        raise NotImplementedError

    def _on_stop(self) -> None:
        raise NotImplementedError

    def _retry(self) -> None:
        raise NotImplementedError

    def _on_chip(self, number: int, citation: Citation) -> None:
        raise NotImplementedError

    def _on_retry(self, message: Message) -> None:
        raise NotImplementedError
