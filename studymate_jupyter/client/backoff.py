"""Reconnect delays: exponential backoff with jitter."""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delay before reconnect attempt ``n`` (0-based): ``min(maximum, base * factor**n)``,
    shortened by up to ``jitter`` of itself so that many clients do not reconnect in step.

    ``random`` returns a float in ``[0, 1)``; inject a fixed one to make the schedule exact.
    """

    base: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5
    random: Callable[[], float] = field(default=_random.random, repr=False)

    def __post_init__(self) -> None:
        if self.base <= 0 or self.maximum < self.base or self.factor < 1:
            raise ValueError("need 0 < base <= maximum and factor >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction between 0 and 1")

    def ceiling(self, attempt: int) -> float:
        """The delay for ``attempt`` before jitter, in seconds."""
        # Cap the exponent first: factor**attempt overflows a float long before a client
        # gives up.
        exponent = min(attempt, 64)
        return float(min(self.maximum, self.base * self.factor**exponent))

    def delay(self, attempt: int) -> float:
        """The jittered delay for ``attempt``, in seconds (within ``[1 - jitter, 1] * ceiling``)."""
        return self.ceiling(attempt) * (1.0 - self.jitter * self.random())
