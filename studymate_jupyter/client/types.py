"""Typed frames of the public chat protocol as the client sends and receives them.

``Message``, ``Citation`` and ``Chat`` are the server's own (``studymate_jupyter.protocol``).
"""

from __future__ import annotations

from typing import Literal, TypedDict

from typing_extensions import NotRequired

# The shared records come from the server's vocabulary: one definition for both sides.
from ..protocol import (
    Chat,
    ChatScope,
    Citation,
    Document,
    ErrorCode,
    Message,
    MessageStatus,
    Passage,
    Role,
    SearchResult,
)

__all__ = [
    "FINAL_STATUSES",
    "Chat",
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
]

ConnectionState = Literal["connecting", "connected", "reconnecting", "offline"]

#: A reply in one of these states will not grow any more.
FINAL_STATUSES: frozenset[str] = frozenset({"complete", "stopped", "error"})


class Me(TypedDict):
    """``GET studymate/api/me``."""

    user_id: str
    display_name: str


class MessagesPage(TypedDict):
    """One page of a chat's history, oldest first."""

    messages: list[Message]
    has_more: bool


# --- client -> server -------------------------------------------------------------------


class OutgoingMessage(TypedDict):
    """The ``message`` a client sends: its own ``id``; the server fills in the rest."""

    id: str
    role: Literal["user"]
    content: str


class AuthData(TypedDict):
    chat_id: NotRequired[str]
    user_id: NotRequired[str]


class AuthFrame(TypedDict):
    type: Literal["auth"]
    data: AuthData


class SendData(TypedDict):
    message: OutgoingMessage
    chat_id: NotRequired[str]
    user_id: NotRequired[str]


class SendFrame(TypedDict):
    type: Literal["message"]
    data: SendData


class TypingOutData(TypedDict):
    chat_id: str
    is_typing: bool


class TypingOutFrame(TypedDict):
    type: Literal["typing"]
    data: TypingOutData


class LoadMessagesData(TypedDict):
    chat_id: str
    before: NotRequired[str]
    limit: NotRequired[int]


class LoadMessagesFrame(TypedDict):
    type: Literal["load_messages"]
    data: LoadMessagesData


class StopData(TypedDict):
    chat_id: str


class StopFrame(TypedDict):
    type: Literal["stop"]
    data: StopData


ClientFrame = AuthFrame | SendFrame | TypingOutFrame | LoadMessagesFrame | StopFrame


# --- server -> client -------------------------------------------------------------------


class AuthOkData(TypedDict):
    user_id: str
    chat_id: NotRequired[str | None]


class AuthOkFrame(TypedDict):
    type: Literal["auth_ok"]
    data: AuthOkData


class LibraryEventData(TypedDict):
    """``library`` (extension): a document's indexing moved on, or it left the library."""

    event: Literal["updated", "removed"]
    document: NotRequired[Document]
    document_id: NotRequired[str]


class ChatEventData(TypedDict):
    """``chat_created`` / ``chat_updated`` / ``chat_deleted``."""

    chat_id: str
    title: NotRequired[str]


class ChatCreatedFrame(TypedDict):
    type: Literal["chat_created"]
    data: ChatEventData


class ChatUpdatedFrame(TypedDict):
    type: Literal["chat_updated"]
    data: ChatEventData


class ChatDeletedFrame(TypedDict):
    type: Literal["chat_deleted"]
    data: ChatEventData


class MessageEventData(TypedDict):
    message: Message
    user_id: str
    chat_id: str


class MessageEventFrame(TypedDict):
    type: Literal["message"]
    data: MessageEventData


class TypingEventData(TypedDict):
    """Someone in a subscribed chat is typing (``user_id == "assistant"`` for the assistant)."""

    user_id: str
    role: Role
    chat_id: str
    is_typing: bool


class TypingEventFrame(TypedDict):
    type: Literal["typing"]
    data: TypingEventData


class MessagesData(TypedDict):
    chat_id: str
    messages: list[Message]
    has_more: bool


class MessagesFrame(TypedDict):
    type: Literal["messages"]
    data: MessagesData


class ErrorData(TypedDict):
    code: str
    message: str
    ref: NotRequired[str | None]


class ErrorFrame(TypedDict):
    type: Literal["error"]
    data: ErrorData


ServerFrame = (
    AuthOkFrame
    | ChatCreatedFrame
    | ChatUpdatedFrame
    | ChatDeletedFrame
    | MessageEventFrame
    | TypingEventFrame
    | MessagesFrame
    | ErrorFrame
)
