"""The StudyMate wire vocabulary: inbound frames as validated models, outbound as TypedDicts.

Every client frame is parsed here, once, at the edge; handlers only ever see these types.
The TypeScript panel mirrors the same names in `labextension/src/protocol.ts`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

ErrorCode = Literal[
    "bad_request", "forbidden", "not_found", "too_large", "rate_limited", "unavailable"
]
Role = Literal["user", "assistant"]
MessageStatus = Literal["streaming", "complete", "stopped", "error"]
StreamMode = Literal["full", "delta"]

MAX_PAGE = 500
DEFAULT_PAGE = 50

Id = Annotated[str, Field(min_length=1, max_length=128)]


class _Model(BaseModel):
    # strict: "true" is not a bool and "5" is not an int; unknown keys (the seed client sends a
    # `timestamp` and maybe `citations`) are ignored rather than refused.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class InboundMessage(_Model):
    """The Message a client sends: the server keeps only these fields."""

    id: Id
    role: Literal["user"]
    content: str


class AuthData(_Model):
    user_id: str | None = None
    chat_id: Id | None = None
    stream: StreamMode = "full"


class MessageData(_Model):
    message: InboundMessage
    user_id: str | None = None
    chat_id: Id | None = None


class TypingData(_Model):
    is_typing: bool
    user_id: str | None = None
    chat_id: Id | None = None


class LoadMessagesData(_Model):
    chat_id: Id
    user_id: str | None = None
    before: Id | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE


class ChatRefData(_Model):
    chat_id: Id
    user_id: str | None = None


class AuthFrame(_Model):
    type: Literal["auth"]
    data: AuthData = AuthData()


class MessageFrame(_Model):
    type: Literal["message"]
    data: MessageData


class TypingFrame(_Model):
    type: Literal["typing"]
    data: TypingData


class LoadMessagesFrame(_Model):
    type: Literal["load_messages"]
    data: LoadMessagesData


class StopFrame(_Model):
    type: Literal["stop"]
    data: ChatRefData


class UnsubscribeFrame(_Model):
    type: Literal["unsubscribe"]
    data: ChatRefData


ClientFrame = Annotated[
    AuthFrame | MessageFrame | TypingFrame | LoadMessagesFrame | StopFrame | UnsubscribeFrame,
    Field(discriminator="type"),
]
_client_frame: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


class ProtocolError(Exception):
    """A client mistake, reported as an `error` frame with a stable code."""

    def __init__(self, code: ErrorCode, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.ref = ref


def parse_frame(raw: str | bytes) -> ClientFrame:
    """Parse one client frame or raise ProtocolError(bad_request) saying what is wrong."""
    try:
        return _client_frame.validate_json(raw)
    except ValidationError as exc:
        raise ProtocolError("bad_request", _describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    # Name the field and the problem, never echo the input back.
    problems = []
    for err in exc.errors(include_input=False, include_url=False)[:3]:
        if err["type"] == "json_invalid":
            return "frame is not valid JSON"
        if err["type"] == "union_tag_invalid":
            return "unknown frame type"
        if err["type"] == "union_tag_not_found":
            return "frame has no 'type'"
        where = ".".join(str(part) for part in err["loc"])
        problems.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(problems)


# ---- outbound -------------------------------------------------------------------------------


class Citation(TypedDict):
    document_id: str
    chunk_id: str
    filename: str
    page_start: int
    page_end: int
    score: float
    anchor: NotRequired[str | None]
    # (extension) the document's path relative to the server root, to open it at the page.
    path: NotRequired[str]


DocumentStatus = Literal["queued", "indexing", "ready", "failed"]
SourceStatus = Literal["current", "changed", "removed"]


class Document(TypedDict):
    id: str
    path: str
    filename: str
    kind: str
    status: DocumentStatus
    error: str | None
    progress: float
    pages: int
    chunks: int
    size: int
    sha256: str
    created_at: str
    updated_at: str


class SearchResult(Citation):
    """One hit of ``GET studymate/api/search``: a citation plus the matching text."""

    snippet: str


class Passage(TypedDict):
    """A cited chunk as a preview shows it (GET documents/{id}/chunks/{chunk_id})."""

    document_id: str
    chunk_id: str
    filename: str
    path: str
    page_start: int
    page_end: int
    anchor: str | None
    heading: str
    text: str
    # current: the document still holds this passage; changed: the file was re-indexed with
    # other content since; removed: the document left the library.
    source: SourceStatus


class Message(TypedDict):
    id: str
    role: Role
    content: str
    citations: list[Citation]
    timestamp: str
    chat_id: str
    status: MessageStatus
    # (extension) on an assistant message: the id of the user message it answers.
    reply_to: NotRequired[str]


class ChatScope(TypedDict, total=False):
    """(extension) The part of the library a chat draws on: a folder, chosen documents, or both."""

    folder: str | None
    document_ids: list[str] | None


TITLE_LENGTH = 60


def title_from(content: str) -> str:
    """A chat's first title: the first line of its first message, shortened."""
    line = " ".join(content.strip().split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


class ScopeBody(BaseModel):
    """A ChatScope as `POST chats` and `PATCH chats/{id}` take it (validated)."""

    model_config = ConfigDict(strict=True, extra="forbid")
    folder: Annotated[str, Field(max_length=1000)] | None = None
    document_ids: (
        Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=500)] | None
    ) = None

    def as_scope(self) -> ChatScope:
        return {"folder": self.folder, "document_ids": self.document_ids}


class Chat(TypedDict):
    id: str
    title: str
    created_at: str
    updated_at: str
    message_count: int
    scope: ChatScope | None


def encode(frame_type: str, data: dict[str, Any] | Any) -> str:
    """Serialize one server frame."""
    return json.dumps({"type": frame_type, "data": data}, ensure_ascii=False)


def error_frame(code: ErrorCode, message: str, ref: str | None = None) -> str:
    data: dict[str, Any] = {"code": code, "message": message}
    if ref is not None:
        data["ref"] = ref
    return encode("error", data)
