"""What every StudyMate handler shares: the context it is given (services, identity, limits)
and JSON errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import BaseModel

from ..assistant import Assistant
from ..chat.service import ChatService
from ..identity import Identity
from ..library.service import LibraryService
from ..protocol import ErrorCode, ProtocolError, parse_body

AUTH_RESOURCE = "studymate"
M = TypeVar("M", bound=BaseModel)

STATUS_OF: dict[ErrorCode, int] = {
    "bad_request": 400,
    "forbidden": 403,
    "not_found": 404,
    "too_large": 413,
    "rate_limited": 429,
    "unavailable": 503,
}
CODE_OF: dict[int, ErrorCode] = {status: code for code, status in STATUS_OF.items()}


@dataclass(frozen=True)
class Limits:
    max_content_bytes: int
    rate: float
    burst: float
    max_unsent_bytes: int


@dataclass(frozen=True)
class Compression:
    """How /ws/chat compresses (permessage-deflate) for a client that offers it."""

    level: int  # zlib level, 0-9
    mem_level: int  # zlib memLevel, 1-9
    window_bits: int  # log2 of the LZ77 window each way, 9-15


@dataclass(frozen=True)
class HandlerContext:
    """Everything the app builds once and hands to each handler."""

    chats: ChatService
    library: LibraryService
    assistant: Assistant
    identity: Identity
    limits: Limits
    # None: the socket never compresses (c.StudyMate.compression = False).
    compression: Compression | None = None


class StudyMateHandler(ExtensionHandlerMixin, APIHandler):
    """A JSON API handler: authenticated, authorized on the `studymate` resource."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str, context: HandlerContext, **kwargs: Any) -> None:
        super().initialize(name, **kwargs)
        self.context = context

    @property
    def user_id(self) -> str:
        return self.context.identity.user_id(self.current_user)

    @property
    def is_instructor(self) -> bool:
        return self.context.identity.is_instructor(self.current_user)

    def parse_body(self, model: type[M]) -> M:
        return parse_body(model, self.request.body)

    def int_argument(self, name: str) -> int | None:
        """A whole-number query argument: None when absent; 0 when not a number, which the
        services refuse with the range they take."""
        raw = self.get_query_argument(name, None)
        if raw is None:
            return None
        return int(raw) if raw.isdigit() else 0

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload, ensure_ascii=False))

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, ProtocolError):
            self.send_error(STATUS_OF[e.code], code=e.code, message=e.message)
        else:
            super()._handle_request_exception(e)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # The class of the failure and where, never its traceback (which may carry paths).
        if isinstance(value, ProtocolError) or getattr(value, "status_code", 500) < 500:
            return
        self.log.error(
            "StudyMate %s %s failed: %s", self.request.method, self.request.path, typ.__name__
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Only a stable code and a sentence: never a traceback, a path or a token.
        self.set_header("Content-Type", "application/json")
        code = kwargs.get("code") or CODE_OF.get(status_code, "bad_request")
        if status_code >= 500 and "code" not in kwargs:
            code = "unavailable"
        message = kwargs.get("message") or HTTPStatus(status_code).phrase
        self.finish(json.dumps({"code": code, "message": message}))
