"""Server → client frames: tagged TypedDicts, built only by the typed builders below.

The server sends nothing else; a client reads frames with ``read_server_frame``, which
validates them against the same declarations.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal, NotRequired

from pydantic import Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from .client_frames import describe
from .errors import ErrorCode
from .records import Chat, Citation, Document, Feedback, Message, MessageStatus, Role


class AuthOkData(TypedDict):
    user_id: str
    chat_id: NotRequired[str]


class AuthOkFrame(TypedDict):
    type: Literal["auth_ok"]
    data: AuthOkData


class ChatEventData(Chat):
    """chat_created / chat_updated: the contract's ``chat_id`` and ``title``, plus (extension)
    the whole Chat."""

    chat_id: str


class ChatCreatedFrame(TypedDict):
    type: Literal["chat_created"]
    data: ChatEventData


class ChatUpdatedFrame(TypedDict):
    type: Literal["chat_updated"]
    data: ChatEventData


class ChatDeletedData(TypedDict):
    chat_id: str


class ChatDeletedFrame(TypedDict):
    type: Literal["chat_deleted"]
    data: ChatDeletedData


class MessageEventData(TypedDict):
    message: Message
    user_id: str
    chat_id: str


class MessageEventFrame(TypedDict):
    type: Literal["message"]
    data: MessageEventData


class MessageDeltaData(TypedDict):
    """(extension) New text of a streaming reply: ``content = content[:offset] + text``."""

    chat_id: str
    message_id: str
    offset: int
    text: str
    # On the last delta of a reply only.
    status: NotRequired[MessageStatus]
    citations: NotRequired[list[Citation]]


class MessageDeltaFrame(TypedDict):
    type: Literal["message_delta"]
    data: MessageDeltaData


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
    code: ErrorCode
    message: str
    ref: NotRequired[str]


class ErrorFrame(TypedDict):
    type: Literal["error"]
    data: ErrorData


class ReactionData(TypedDict):
    """(extension) A message's reactions changed: all of them, as they now stand."""

    chat_id: str
    message_id: str
    reactions: dict[str, list[str]]


class ReactionFrame(TypedDict):
    type: Literal["reaction"]
    data: ReactionData


class FeedbackEventData(TypedDict):
    """(extension) The user's feedback on a message changed (None: taken back)."""

    chat_id: str
    message_id: str
    feedback: Feedback | None


class FeedbackEventFrame(TypedDict):
    type: Literal["feedback"]
    data: FeedbackEventData


class LibraryUpdatedData(TypedDict):
    """(extension) A document's indexing moved on."""

    event: Literal["updated"]
    document: Document


class LibraryRemovedData(TypedDict):
    """(extension) A document left the library."""

    event: Literal["removed"]
    document_id: str


LibraryEventData = LibraryUpdatedData | LibraryRemovedData


class LibraryFrame(TypedDict):
    type: Literal["library"]
    data: Annotated[LibraryEventData, Field(discriminator="event")]


ServerFrame = (
    AuthOkFrame
    | ChatCreatedFrame
    | ChatUpdatedFrame
    | ChatDeletedFrame
    | MessageEventFrame
    | MessageDeltaFrame
    | TypingEventFrame
    | MessagesFrame
    | ErrorFrame
    | LibraryFrame
    | ReactionFrame
    | FeedbackEventFrame
)
server_frame: TypeAdapter[ServerFrame] = TypeAdapter(
    Annotated[ServerFrame, Field(discriminator="type")]
)


def _encode(frame: ServerFrame) -> str:
    return json.dumps(frame, ensure_ascii=False)


def auth_ok_frame(user_id: str, chat_id: str | None = None) -> str:
    data: AuthOkData = {"user_id": user_id}
    if chat_id is not None:
        data["chat_id"] = chat_id
    return _encode({"type": "auth_ok", "data": data})


def _chat_event(chat: Chat) -> ChatEventData:
    return {"chat_id": chat["id"], **chat}


def chat_created_frame(chat: Chat) -> str:
    return _encode({"type": "chat_created", "data": _chat_event(chat)})


def chat_updated_frame(chat: Chat) -> str:
    return _encode({"type": "chat_updated", "data": _chat_event(chat)})


def chat_deleted_frame(chat_id: str) -> str:
    return _encode({"type": "chat_deleted", "data": {"chat_id": chat_id}})


def message_frame(message: Message, user_id: str, chat_id: str) -> str:
    data: MessageEventData = {"message": message, "user_id": user_id, "chat_id": chat_id}
    return _encode({"type": "message", "data": data})


def message_delta_frame(message: Message, offset: int) -> str:
    """The text of ``message`` from ``offset`` on; the last one (not ``streaming``) also
    carries the final status and the citations."""
    data: MessageDeltaData = {
        "chat_id": message["chat_id"],
        "message_id": message["id"],
        "offset": offset,
        "text": message["content"][offset:],
    }
    if message["status"] != "streaming":
        data["status"] = message["status"]
        data["citations"] = message["citations"]
    return _encode({"type": "message_delta", "data": data})


def typing_frame(user_id: str, role: Role, chat_id: str, is_typing: bool) -> str:
    data: TypingEventData = {
        "user_id": user_id,
        "role": role,
        "chat_id": chat_id,
        "is_typing": is_typing,
    }
    return _encode({"type": "typing", "data": data})


def messages_frame(chat_id: str, messages: list[Message], has_more: bool) -> str:
    data: MessagesData = {"chat_id": chat_id, "messages": messages, "has_more": has_more}
    return _encode({"type": "messages", "data": data})


def error_frame(code: ErrorCode, message: str, ref: str | None = None) -> str:
    data: ErrorData = {"code": code, "message": message}
    if ref is not None:
        data["ref"] = ref
    return _encode({"type": "error", "data": data})


def reaction_frame(chat_id: str, message_id: str, reactions: dict[str, list[str]]) -> str:
    data: ReactionData = {"chat_id": chat_id, "message_id": message_id, "reactions": reactions}
    return _encode({"type": "reaction", "data": data})


def feedback_frame(chat_id: str, message_id: str, feedback: Feedback | None) -> str:
    data: FeedbackEventData = {"chat_id": chat_id, "message_id": message_id, "feedback": feedback}
    return _encode({"type": "feedback", "data": data})


def library_updated_frame(document: Document) -> str:
    return _encode({"type": "library", "data": {"event": "updated", "document": document}})


def library_removed_frame(document_id: str) -> str:
    return _encode({"type": "library", "data": {"event": "removed", "document_id": document_id}})


def read_server_frame(raw: str | bytes) -> ServerFrame | None:
    """A server frame as a client reads it, validated; ``None`` for a type this version does
    not know (servers may add frames). Raises ValueError for a malformed frame."""
    try:
        return server_frame.validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "union_tag_invalid" and not e["loc"] for e in exc.errors()):
            return None
        raise ValueError(describe(exc)) from None
