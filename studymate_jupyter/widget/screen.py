"""What the panel shows: its widgets and how a state of the chat is drawn into them.

``Screen`` knows nothing of the client, its thread or the chat's state: ``ChatPanel`` owns
those, draws through these methods under its own lock, and receives what the user does
through the ``Actions`` it hands in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .question import QuestionBox
from .render import escape
from .scope import WHOLE_LIBRARY, describe, scope_options, value_of
from .search import SearchResults
from .viewport import Viewport
from .views import MessageView, PreviewView, show
from .who_answers import assistant_line, assistant_warning

if TYPE_CHECKING:
    from ..protocol import (
        AssistantInfo,
        Chat,
        ChatScope,
        Citation,
        Document,
        Message,
        MessageSearchPage,
        MessageSearchResult,
        Rating,
    )

_INDICATOR = {
    "connecting": ("#b26a00", "connecting…"),
    "connected": ("#2e7d32", "connected"),
    "reconnecting": ("#b26a00", "reconnecting…"),
    "offline": ("#c62828", "offline"),
    "in-process": ("#1565c0", "in-process"),
}
#: The panel's notice in JupyterLab: its warning background, with fallbacks outside it.
_WARNING_STYLE = (
    "background: var(--jp-warn-color3, #ffe0b2); color: var(--jp-ui-font-color1, #212121);"
    " padding: 2px 6px; line-height: 1.4"
)
NEW_CHAT = ""  # the picker's value for "a new chat" (its first message creates it)


def chat_label(chat: Chat) -> str:
    """A chat in the picker: its title, and how many replies are unread there, ``Title (2)``."""
    unread = chat.get("unread") or 0
    return f"{chat['title']} ({unread})" if unread else chat["title"]


@dataclass(frozen=True)
class Actions:
    """What the user did, for the panel to carry out (called on the kernel's thread)."""

    pick_chat: Callable[[str], None]
    new_chat: Callable[[], None]
    choose_scope: Callable[[str], None]
    send_input: Callable[[], None]
    stop: Callable[[], None]
    retry_error: Callable[[], None]
    open_chip: Callable[[int, Citation], None]
    retry_reply: Callable[[Message], None]
    check_assistant: Callable[[], None]
    react: Callable[[Message, str, bool], None]
    rate: Callable[[Message, Rating | None, str | None], None]
    search: Callable[[str], None]
    open_result: Callable[[MessageSearchResult], None]
    #: The end of the conversation came on screen (True) or left it (False).
    seen: Callable[[bool], None]


class Screen:
    """The widgets of a chat panel (header with who answers, messages, typing, errors, input,
    preview)."""

    def __init__(self, actions: Actions) -> None:
        self._actions = actions
        self._views: dict[str, MessageView] = {}
        #: What the "Draws on" dropdown was last drawn from: the header is redrawn many times a
        #: second while a reply streams, and its options only change with these.
        self._scope_drawn: tuple[list[Document], str] | None = None
        #: Set while the pickers are redrawn, so that is not taken for the user's choice.
        self._syncing_picker = False
        self._build_widgets()

    def _build_widgets(self) -> None:
        actions = self._actions
        self.title = w.HTML("<b>New chat</b>", layout=w.Layout(flex="1 1 auto"))
        self.status = w.HTML(self._indicator_html("connecting", None))
        self.picker = w.Dropdown(
            options=[("New chat", NEW_CHAT)], value=NEW_CHAT, layout=w.Layout(width="14em")
        )
        self.picker.observe(self._on_pick, names="value")
        self.new_chat_button = w.Button(
            description="New chat", icon="plus", layout=w.Layout(width="auto")
        )
        self.new_chat_button.on_click(lambda _button: actions.new_chat())
        self.scope_picker = w.Dropdown(
            description="Draws on",
            options=[("Whole library", WHOLE_LIBRARY)],
            value=WHOLE_LIBRARY,
            style={"description_width": "initial"},
            layout=w.Layout(width="auto", max_width="100%"),
        )
        self.scope_picker.observe(self._on_scope, names="value")
        # Who answers, under the connection; hidden until the server said.
        self.assistant_line = w.HTML("", layout=w.Layout(display="none"))
        self.assistant_warning = w.HTML("", layout=w.Layout(flex="1 1 auto"))
        self.check_assistant_button = w.Button(
            description="Check again",
            icon="refresh",
            # Not shrunk by a long warning beside it: its label must stay whole.
            layout=w.Layout(width="auto", flex="0 0 auto"),
        )
        self.check_assistant_button.on_click(lambda _button: actions.check_assistant())
        # Searched on Enter (or when the field loses focus), not on every key.
        self.search_field = w.Text(
            placeholder="Search your chats…",
            continuous_update=False,
            layout=w.Layout(width="14em"),
        )
        self.search_field.observe(self._on_search, names="value")
        self.search_results = SearchResults(actions.open_result)
        self.assistant_bar = w.HBox(
            [self.assistant_warning, self.check_assistant_button],
            layout=w.Layout(display="none", align_items="center"),
        )
        self.header = w.VBox(
            [
                w.HBox(
                    [self.title, self.status, self.picker, self.new_chat_button],
                    layout=w.Layout(align_items="center"),
                ),
                w.HBox(
                    [self.scope_picker, self.search_field],
                    layout=w.Layout(align_items="center", flex_flow="row wrap"),
                ),
                self.assistant_line,
                self.assistant_bar,
            ]
        )
        self.message_list = w.VBox(
            [], layout=w.Layout(max_height="480px", overflow_y="auto", padding="0 4px")
        )
        # Below the conversation: the browser says when it is on screen (read state).
        self.viewport = Viewport()
        self.viewport.on_change(actions.seen)
        self.typing_indicator = w.HTML("", layout=w.Layout(display="none"))
        self.error = w.HTML("")
        self.retry_button = w.Button(
            description="Retry", icon="refresh", layout=w.Layout(width="auto")
        )
        self.retry_button.on_click(lambda _button: actions.retry_error())
        self.error_bar = w.HBox([self.error, self.retry_button], layout=w.Layout(display="none"))
        self.input = QuestionBox(
            placeholder="Ask about your course material… (Enter sends, Shift+Enter: new line)",
            layout=w.Layout(flex="1 1 auto", width="auto"),
        )
        self.input.on_submit(lambda _text: actions.send_input())
        self.send_button = w.Button(
            description="Send",
            icon="paper-plane",
            button_style="primary",
            layout=w.Layout(width="auto"),
        )
        self.send_button.on_click(lambda _button: actions.send_input())
        self.stop_button = w.Button(
            description="Stop",
            icon="stop",
            button_style="warning",
            layout=w.Layout(width="auto", display="none"),
        )
        self.stop_button.on_click(lambda _button: actions.stop())
        self.input_row = w.HBox([self.input, self.send_button, self.stop_button])
        self.preview = PreviewView()
        self.widget = w.VBox(
            [
                self.header,
                self.search_results.box,
                self.message_list,
                self.viewport,
                self.typing_indicator,
                self.error_bar,
                self.input_row,
                self.preview.box,
            ],
            layout=w.Layout(border="1px solid var(--jp-border-color2, #ddd)", padding="4px"),
        )
        self.widget.add_class("studymate-panel")

    @staticmethod
    def _indicator_html(state: str, reason: str | None) -> str:
        color, label = _INDICATOR.get(state, ("#777", state))
        hint = f"{reason}: StudyMate runs in this kernel" if reason else label
        return (
            f'<span title="{escape(hint)}" style="color: {color}; white-space: nowrap">'
            f"● {escape(label)}</span>" + (f" <small>{escape(reason)}</small>" if reason else "")
        )

    # --- drawing (under the panel's lock) ---------------------------------------------------

    def show_status(self, state: str, reason: str | None) -> None:
        self.status.value = self._indicator_html(state, reason)

    def show_assistant(self, info: AssistantInfo) -> None:
        """Who answers; while it cannot, a warning with the server's sentence why instead."""
        warning = assistant_warning(info)
        if warning is None:
            line = (
                '<small style="color: var(--jp-ui-font-color2, #616161)">'
                f"{escape(assistant_line(info))}</small>"
            )
            if self.assistant_line.value != line:
                self.assistant_line.value = line
        else:
            html = f'<div style="{_WARNING_STYLE}">⚠ {escape(warning)}</div>'
            if self.assistant_warning.value != html:
                self.assistant_warning.value = html
        show(self.assistant_line, warning is None)
        show(self.assistant_bar, warning is not None)

    def render_messages(
        self, shown: list[Message], me: str | None = None, highlighted: str | None = None
    ) -> None:
        """The conversation; ``me`` (the user) marks their own reactions, ``highlighted``
        the message a search hit opened."""
        keep: dict[str, MessageView] = {}
        rows = []
        actions = self._actions
        for message in shown:
            view = self._views.get(message["id"])
            if view is None:
                view = MessageView(
                    message, actions.open_chip, actions.retry_reply, actions.react, actions.rate, me
                )
            else:
                view.update(message, me)
            view.set_highlight(message["id"] == highlighted)
            keep[message["id"]] = view
            rows.append(view.row)
        if tuple(rows) != tuple(self.message_list.children):
            self.message_list.children = rows
        for message_id, view in self._views.items():
            if message_id not in keep:
                view.close()
        self._views = keep

    def update_typing(self, thinking: bool, streaming: bool) -> None:
        text = "StudyMate is writing…" if streaming else "StudyMate is thinking…"
        value = f"<i>{text}</i>" if thinking else ""
        if self.typing_indicator.value != value:
            self.typing_indicator.value = value
        show(self.typing_indicator, thinking)
        show(self.stop_button, thinking or streaming)

    def render_header(
        self,
        chat_id: str | None,
        chats: list[Chat],
        documents: list[Document],
        pending_scope: ChatScope | None,
    ) -> None:
        """The title, the chat picker and the "Draws on" dropdown; a new chat shows what its
        first question will create it with (``pending_scope``)."""
        chat = next((c for c in chats if c["id"] == chat_id), None)
        title = chat["title"] if chat else ("New chat" if chat_id is None else "Chat")
        html = f"<b>{escape(title)}</b>"
        if self.title.value != html:
            self.title.value = html
        options = [("New chat", NEW_CHAT)] + [(chat_label(c), c["id"]) for c in chats]
        if chat_id is not None and chat is None:
            options.append((title, chat_id))
        scope = chat.get("scope") if chat else pending_scope
        self._syncing_picker = True
        try:
            if tuple(options) != tuple(self.picker.options):
                self.picker.options = options
            value = chat_id or NEW_CHAT
            if self.picker.value != value:
                self.picker.value = value
            self._render_scope(scope, documents)
        finally:
            self._syncing_picker = False

    def _render_scope(self, scope: ChatScope | None, documents: list[Document]) -> None:
        value = value_of(scope)
        drawn = self._scope_drawn
        if drawn is None or drawn[0] is not documents or drawn[1] != value:
            self._scope_drawn = (documents, value)
            options = scope_options(documents, scope)
            if tuple(options) != tuple(self.scope_picker.options):
                self.scope_picker.options = options
            self.scope_picker.tooltip = f"This chat draws on: {describe(scope, documents)}"
        # Always: a choice the server refused must go back to what the chat draws on.
        if self.scope_picker.value != value:
            self.scope_picker.value = value

    def show_results(self, query: str, page: MessageSearchPage) -> None:
        self.search_results.show(query, page)

    def show_search_error(self, text: str) -> None:
        self.search_results.show_error(text)

    def scroll_to_highlight(self) -> None:
        self.viewport.scroll_to_highlight()

    def show_error(self, text: str, can_retry: bool) -> None:
        self.error.value = f'<span style="color: #c62828">{escape(text)}</span>'
        show(self.retry_button, can_retry)
        show(self.error_bar, True)

    def clear_error(self) -> None:
        show(self.error_bar, False)

    def show_passage(self, title: str, body: str, link: str) -> None:
        self.preview.show(title, body, link)

    def close(self) -> None:
        for view in self._views.values():
            view.close()
        self._views.clear()
        self.search_results.close()
        self.viewport.close()
        self.widget.close()

    # --- what the user does ----------------------------------------------------------------

    def _on_pick(self, change: dict[str, Any]) -> None:
        if not self._syncing_picker:
            self._actions.pick_chat(change["new"])

    def _on_search(self, change: dict[str, Any]) -> None:
        query = str(change["new"]).strip()
        if query:
            self._actions.search(query)
        else:
            self.search_results.hide()

    def _on_scope(self, change: dict[str, Any]) -> None:
        if not self._syncing_picker:
            self._actions.choose_scope(change["new"])
