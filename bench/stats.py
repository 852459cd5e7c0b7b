"""How samples become figures: percentiles, and median/min/max over repetitions."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[min(len(ordered) - 1, max(0, rank - 1))]


@dataclass(frozen=True)
class Spread:
    """One figure over repetitions: the median, with the min and max beside it."""

    median: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no values")
        return cls(statistics.median(values), min(values), max(values), len(values))

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.min, "max": self.max, "n": self.n}


def ratios(ours: Sequence[float], baseline: Sequence[float]) -> Spread:
    """Ratio per repetition (ours[i] / baseline[i], measured back to back), summarised."""
    pairs = list(zip(ours, baseline, strict=True))
    return Spread.of([a / b for a, b in pairs if b > 0])
