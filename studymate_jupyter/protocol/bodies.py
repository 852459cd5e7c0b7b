"""Request bodies of the REST API, validated like frames, whichever door they come through.

The REST handlers parse them from the request; the in-process client from its arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ProtocolError
from .records import ChatScope, LibraryName

DEFAULT_TITLE = "New chat"

Title = Annotated[str, Field(min_length=1, max_length=200)]
B = TypeVar("B", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ScopeBody(_Body):
    """A ChatScope as `POST chats` and `PATCH chats/{id}` take it (validated)."""

    folder: Annotated[str, Field(max_length=1000)] | None = None
    document_ids: (
        Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=500)] | None
    ) = None

    def as_scope(self) -> ChatScope:
        return {"folder": self.folder, "document_ids": self.document_ids}


class _Scoped(_Body):
    scope: ScopeBody | None = None

    @property
    def chat_scope(self) -> ChatScope | None:
        return self.scope.as_scope() if self.scope else None


class NewChat(_Scoped):
    """``POST chats``; (extension) a scope limits the chat before its first question."""

    title: Title = DEFAULT_TITLE

    @field_validator("title")
    @classmethod
    def _blank_is_default(cls, title: str) -> str:
        return title.strip() or DEFAULT_TITLE


class ChatPatch(_Scoped):
    """``PATCH chats/{id}``: a ``scope`` of null clears it (the whole library again); an
    absent one leaves it as it is."""

    title: Title | None = None

    @property
    def clears_scope(self) -> bool:
        return "scope" in self.model_fields_set and self.scope is None


class NewDocument(_Body):
    """``POST documents``."""

    path: Annotated[str, Field(min_length=1, max_length=4096)]
    # (extension) "course": into the course library (instructors only).
    library: LibraryName = "personal"


def parse_body(model: type[B], body: str | bytes | Mapping[str, object]) -> B:
    """A request body (JSON text, or the dict an in-process call builds) as ``model``, or
    ProtocolError(bad_request) naming the fields that are wrong."""
    try:
        if isinstance(body, str | bytes):
            return model.model_validate_json(body or b"{}")
        return model.model_validate(body)
    except ValidationError as exc:
        problems = ", ".join(
            ".".join(map(str, e["loc"])) or e["msg"]
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise ProtocolError("bad_request", f"invalid body: {problems}") from None
