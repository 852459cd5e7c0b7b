"""Client → server frames: validated models, parsed once at the edge.

The server parses every frame a client sends with ``parse_frame``; handlers only ever see
these types. Clients build the same models (``AuthFrame.of(...)``, ...) and ``encode()`` them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import ProtocolError

StreamMode = Literal["full", "delta"]

MAX_PAGE = 500
DEFAULT_PAGE = 50

Id = Annotated[str, Field(min_length=1, max_length=128)]


class _Model(BaseModel):
    # strict: "true" is not a bool and "5" is not an int; unknown keys (the seed client sends a
    # `timestamp` and maybe `citations`) are ignored rather than refused.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Frame(_Model):
    def encode(self) -> str:
        """The frame as a client sends it: the fields it was given, none of the defaults."""
        return self.model_dump_json(exclude_unset=True, exclude_none=True)


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


class ReactData(_Model):
    """(extension) Put `emoji` on a message (`on`) or take it off."""

    chat_id: Id
    message_id: Id
    emoji: Annotated[str, Field(min_length=1, max_length=16)]
    on: bool = True
    user_id: str | None = None


class FeedbackData(_Model):
    """(extension) Rate an assistant message; a null rating takes the feedback back."""

    chat_id: Id
    message_id: Id
    rating: Literal["up", "down"] | None
    note: str | None = None
    user_id: str | None = None


class ReadData(_Model):
    """(extension) The newest message of the chat this user has seen."""

    chat_id: Id
    message_id: Id
    user_id: str | None = None


# The `of` constructors are how a client builds a frame: unvalidated (the server judges it,
# and a client must hear the server's error, not a local one), and encoded with only what
# was given, as the seed client writes its frames.


class AuthFrame(_Frame):
    type: Literal["auth"]
    data: AuthData = AuthData()

    @classmethod
    def of(cls, chat_id: str | None = None) -> AuthFrame:
        return cls.model_construct(type="auth", data=AuthData.model_construct(chat_id=chat_id))


class MessageFrame(_Frame):
    type: Literal["message"]
    data: MessageData

    @classmethod
    def of(cls, message_id: str, content: str, chat_id: str | None = None) -> MessageFrame:
        message = InboundMessage.model_construct(id=message_id, role="user", content=content)
        return cls.model_construct(
            type="message", data=MessageData.model_construct(message=message, chat_id=chat_id)
        )


class TypingFrame(_Frame):
    type: Literal["typing"]
    data: TypingData

    @classmethod
    def of(cls, chat_id: str, is_typing: bool) -> TypingFrame:
        data = TypingData.model_construct(chat_id=chat_id, is_typing=is_typing)
        return cls.model_construct(type="typing", data=data)


class LoadMessagesFrame(_Frame):
    type: Literal["load_messages"]
    data: LoadMessagesData

    @classmethod
    def of(
        cls, chat_id: str, before: str | None = None, limit: int | None = None
    ) -> LoadMessagesFrame:
        data = (
            LoadMessagesData.model_construct(chat_id=chat_id, before=before)
            if limit is None
            else LoadMessagesData.model_construct(chat_id=chat_id, before=before, limit=limit)
        )
        return cls.model_construct(type="load_messages", data=data)


class StopFrame(_Frame):
    type: Literal["stop"]
    data: ChatRefData

    @classmethod
    def of(cls, chat_id: str) -> StopFrame:
        return cls.model_construct(type="stop", data=ChatRefData.model_construct(chat_id=chat_id))


class UnsubscribeFrame(_Frame):
    type: Literal["unsubscribe"]
    data: ChatRefData


class ReactFrame(_Frame):
    type: Literal["react"]
    data: ReactData

    @classmethod
    def of(cls, chat_id: str, message_id: str, emoji: str, on: bool = True) -> ReactFrame:
        data = ReactData.model_construct(chat_id=chat_id, message_id=message_id, emoji=emoji, on=on)
        return cls.model_construct(type="react", data=data)


class FeedbackFrame(_Frame):
    type: Literal["feedback"]
    data: FeedbackData

    @classmethod
    def of(
        cls,
        chat_id: str,
        message_id: str,
        rating: Literal["up", "down"] | None,
        note: str | None = None,
    ) -> FeedbackFrame:
        data = (
            FeedbackData.model_construct(chat_id=chat_id, message_id=message_id, rating=rating)
            if note is None
            else FeedbackData.model_construct(
                chat_id=chat_id, message_id=message_id, rating=rating, note=note
            )
        )
        return cls.model_construct(type="feedback", data=data)

    def encode(self) -> str:
        # `rating: null` takes feedback back: it must be sent, unlike other absent values.
        return self.model_dump_json(exclude_unset=True)


class ReadFrame(_Frame):
    type: Literal["read"]
    data: ReadData

    @classmethod
    def of(cls, chat_id: str, message_id: str) -> ReadFrame:
        data = ReadData.model_construct(chat_id=chat_id, message_id=message_id)
        return cls.model_construct(type="read", data=data)


ClientFrame = Annotated[
    AuthFrame
    | MessageFrame
    | TypingFrame
    | LoadMessagesFrame
    | StopFrame
    | UnsubscribeFrame
    | ReactFrame
    | FeedbackFrame
    | ReadFrame,
    Field(discriminator="type"),
]
client_frame: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


def parse_frame(raw: str | bytes) -> ClientFrame:
    """Parse one client frame or raise ProtocolError(bad_request) saying what is wrong."""
    try:
        return client_frame.validate_json(raw)
    except ValidationError as exc:
        raise ProtocolError("bad_request", describe(exc)) from None


def describe(exc: ValidationError) -> str:
    """What is wrong with a frame, by field; never the input itself."""
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
