"""Timestamps and ids every repository stamps its rows with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def now() -> str:
    """The canonical timestamp: ISO 8601 in UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return uuid.uuid4().hex
