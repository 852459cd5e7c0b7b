"""What ``studymate chat`` shows, whatever the output: the interface of its two views.

:class:`~.terminal_plain.PlainView` writes text for pipes and scripts;
:class:`~.terminal_rich.RichView` renders Markdown in a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..protocol import Chat, Message, MessageSearchResult
from .formatting import local_time
from .types import ConnectionState

_ROLE = {"user": "you", "assistant": "studymate"}


@dataclass(frozen=True)
class ChatRow:
    """One line of ``/chats``: the number ``/open N`` takes, the chat, whether it is open."""

    number: int
    chat: Chat
    current: bool


@dataclass(frozen=True)
class SearchHit:
    """One line of ``/search``: where the message is (chat title, who wrote it, when) and
    the words around the match, with the ``[start, end)`` ranges that matched."""

    chat_title: str
    role: str
    when: str
    snippet: str
    marks: list[tuple[int, int]]

    @classmethod
    def of(cls, result: MessageSearchResult) -> SearchHit:
        snippet = result["snippet"]
        marks = sorted(
            (max(0, int(start)), min(len(snippet), int(end))) for start, end in result["marks"]
        )
        return cls(
            chat_title=result["chat_title"],
            role=_ROLE.get(result["role"], result["role"]),
            when=local_time(result["timestamp"]),
            snippet=snippet,
            marks=[(start, end) for start, end in marks if end > start],
        )

    @property
    def heading(self) -> str:
        return f"{self.chat_title} · {self.role} · {self.when}"


class TerminalView(Protocol):
    """The terminal client's output. Every method is called on the client's event loop."""

    def typed(self, line: str) -> None:
        """A line the user has just entered in this terminal (a message or a command)."""

    def user(self, message: Message) -> None:
        """A user message this terminal did not type: history, or another tab's."""

    def reply(self, message: Message) -> None:
        """An assistant message: each state while it streams, its final state once."""

    def typing(self, is_typing: bool) -> None:
        """The assistant started or stopped working on a reply in the current chat."""

    def chat_changed(self) -> None:
        """Another chat is now the current one: a reply in progress is no longer shown."""

    def state(self, state: ConnectionState) -> None:
        """The connection moved to ``state``."""

    def note(self, text: str) -> None:
        """A status line, not part of the conversation."""

    def error(self, text: str) -> None:
        """Something went wrong that the user should read (``text`` says what)."""

    def chats(self, rows: list[ChatRow]) -> None:
        """The ``/chats`` listing, newest first."""

    def help(self, text: str) -> None:
        """The ``/help`` text."""

    def search_results(self, hits: list[SearchHit]) -> None:
        """The hits of ``/search``, newest first (at least one)."""

    def close(self) -> None:
        """The client is leaving: end the output cleanly."""
