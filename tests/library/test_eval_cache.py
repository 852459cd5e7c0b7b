"""bench/eval's vector cache: keyed by the model's name and the text, so models never mix."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `bench` lives beside `tests`

from bench.eval.harness import CachedEncoder

if TYPE_CHECKING:
    from collections.abc import Sequence


class CountingEncoder:
    """A stand-in model: a text's vector is its length, every text it encodes counted."""

    def __init__(self, name: str, scale: float) -> None:
        self.name = name
        self.cost = 1.0
        self.scale = scale
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> object:
        self.texts.extend(texts)
        return np.array([[len(t) * self.scale, 1.0] for t in texts], dtype=np.float32)


def test_vectors_are_reused_for_the_same_model_and_text(tmp_path: Path) -> None:
    first = CachedEncoder(CountingEncoder("model-a", 1.0), tmp_path)
    first.encode(["alpha", "beta"])
    again = CountingEncoder("model-a", 1.0)
    vectors = CachedEncoder(again, tmp_path).encode(["beta", "alpha", "gamma"])
    assert again.texts == ["gamma"]
    assert vectors[:, 0].tolist() == [4.0, 5.0, 5.0]


def test_another_model_never_sees_the_first_ones_vectors(tmp_path: Path) -> None:
    CachedEncoder(CountingEncoder("model-a", 1.0), tmp_path).encode(["alpha", "beta"])
    other = CountingEncoder("model-b", 10.0)
    vectors = CachedEncoder(other, tmp_path).encode(["alpha", "beta"])
    assert other.texts == ["alpha", "beta"]
    assert vectors[:, 0].tolist() == [50.0, 40.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-a", "model-b"]
