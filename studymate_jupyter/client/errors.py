"""The one exception type the client raises for protocol and HTTP errors."""

from __future__ import annotations


class StudyMateError(Exception):
    """An ``error`` frame or an HTTP error: ``code`` is the contract's machine word
    (``bad_request``, ``forbidden``, ``not_found``, ``too_large``, ``rate_limited``,
    ``unavailable``)."""

    def __init__(
        self, code: str, message: str, *, ref: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.ref = ref
        self.status = status


#: Errors worth sending the same message again for (after a backoff delay).
TRANSIENT_CODES = frozenset({"rate_limited", "unavailable"})
