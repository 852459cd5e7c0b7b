"""bench/eval's vector cache: keyed by the model's name and the text, so models never mix."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

np = pytest.importorskip("numpy", reason="the vector cache stores numpy arrays")

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `bench` lives beside `tests`

from bench.eval.harness import CachedEmbedder  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Sequence


class CountingEmbedder:
    """A stand-in model: a text's vector is its length, one call counted per embed."""

    def __init__(self, name: str, scale: float) -> None:
        self.name = name
        self.scale = scale
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> object:
        self.texts.extend(texts)
        return np.array([[len(t) * self.scale, 1.0] for t in texts], dtype=np.float32)


def test_vectors_are_reused_for_the_same_model_and_text(tmp_path: Path) -> None:
    first = CachedEmbedder(CountingEmbedder("model-a", 1.0), tmp_path)
    first.embed(["alpha", "beta"])
    again = CountingEmbedder("model-a", 1.0)
    vectors = CachedEmbedder(again, tmp_path).embed(["beta", "alpha", "gamma"])
    assert again.texts == ["gamma"]
    assert vectors[:, 0].tolist() == [4.0, 5.0, 5.0]


def test_another_model_never_sees_the_first_ones_vectors(tmp_path: Path) -> None:
    CachedEmbedder(CountingEmbedder("model-a", 1.0), tmp_path).embed(["alpha", "beta"])
    other = CountingEmbedder("model-b", 10.0)
    vectors = CachedEmbedder(other, tmp_path).embed(["alpha", "beta"])
    assert other.texts == ["alpha", "beta"]
    assert vectors[:, 0].tolist() == [50.0, 40.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-a", "model-b"]
