"""The stable error codes, and the exception every layer raises to report one."""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal[
    "bad_request", "forbidden", "not_found", "too_large", "rate_limited", "unavailable"
]


class ProtocolError(Exception):
    """A client mistake, reported as an `error` frame (or a JSON error) with a stable code."""

    def __init__(self, code: ErrorCode, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.ref = ref
