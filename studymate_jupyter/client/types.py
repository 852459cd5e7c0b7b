"""The types of the client's API: the protocol's own (``studymate_jupyter.protocol``, one
declaration for the server and its clients), and the few that only a client has."""

from __future__ import annotations

from typing import Literal

from ..protocol import (
    Chat,
    ChatDeletedData,
    ChatEventData,
    ChatScope,
    Citation,
    Document,
    ErrorCode,
    LibraryEventData,
    Me,
    Message,
    MessagesPage,
    MessageStatus,
    Passage,
    Role,
    SearchResult,
    TypingEventData,
)

__all__ = [
    "FINAL_STATUSES",
    "Chat",
    "ChatDeletedData",
    "ChatEventData",
    "ChatScope",
    "Citation",
    "ConnectionState",
    "Document",
    "ErrorCode",
    "LibraryEventData",
    "Me",
    "Message",
    "MessageStatus",
    "MessagesPage",
    "Passage",
    "Role",
    "SearchResult",
    "TypingEventData",
]

ConnectionState = Literal["connecting", "connected", "reconnecting", "offline"]

#: A reply in one of these states will not grow any more.
FINAL_STATUSES: frozenset[str] = frozenset({"complete", "stopped", "error"})
