"""The one error ingestion raises, with a reason fit to show a person."""

from __future__ import annotations


class IngestError(Exception):
    """A file could not be ingested; `reason` is short, human-readable and names no path."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
