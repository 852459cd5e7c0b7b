"""A minimal typed observer list: ``signal.connect(callback)`` returns a disconnect function."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger("studymate_jupyter.client")


class Signal(Generic[T]):
    """Observers called with one value, in the order they connected, on the client's loop."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[[T], object]] = []

    def connect(self, callback: Callable[[T], object]) -> Callable[[], None]:
        """Call ``callback(value)`` on every emit; the returned function disconnects it."""
        self._callbacks.append(callback)

        def disconnect() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return disconnect

    def emit(self, value: T) -> None:
        """Call every observer; one that raises is logged and does not stop the others."""
        # Copy: an observer may disconnect itself while being called.
        for callback in list(self._callbacks):
            try:
                callback(value)
            except Exception:
                log.exception("observer of %s failed", self.name)
