"""A user's library in memory for hybrid search: one segment per document.

A segment holds what ranking needs of a document's searchable chunks, and nothing the
database does not also hold (chunks_fts for the words, chunk_embeddings for the vectors):

- a sparse BM25 index over plain, unstemmed tokens (stemming hurt inside the fusion on
  bench/eval), stored as compressed rows per term of a shared vocabulary;
- the chunks' vectors per encoder, as they arrive from the background vector step.

Segments are built when a document is indexed (from its chunks, before the write) or, after
a restart, from the database on the first search; a document's change drops its segment.
FTS5's own bm25() scores every row matching any term (32 ms of a 54 ms search at 100,000
chunks); here the cost is the postings of the question's terms only.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from .query import STOP_WORDS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from numpy.typing import NDArray

# Okapi BM25's usual constants.
K1 = 1.2
B = 0.75

_TOKEN = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Lower-cased words and numbers, stop words dropped (they match nearly every chunk)."""
    return [word for word in _TOKEN.findall(text.lower()) if word not in STOP_WORDS]


class Vocabulary:
    """Term ids shared by every segment, so a question's terms are looked up once."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def ids(self, terms: Iterable[str]) -> list[int]:
        with self._lock:
            ids = self._ids
            return [ids[term] if term in ids else ids.setdefault(term, len(ids)) for term in terms]

    def known(self, terms: Iterable[str]) -> list[int]:
        """Ids of the terms any segment has (others match nothing)."""
        found = (self._ids.get(term) for term in terms)
        return [term_id for term_id in found if term_id is not None]


@dataclass
class Sparse:
    """Postings of one segment: for the i-th distinct term id, rows offsets[i]:offsets[i+1]."""

    term_ids: NDArray[np.int64]  # sorted
    offsets: NDArray[np.int64]
    rows: NDArray[np.int32]  # chunk positions in the segment
    counts: NDArray[np.float32]  # term frequency in that chunk
    lengths: NDArray[np.float32]  # tokens per chunk

    @classmethod
    def build(cls, vocabulary: Vocabulary, texts: Sequence[str]) -> Sparse:
        ids = [vocabulary.ids(tokens(text)) for text in texts]
        lengths = np.array([len(words) for words in ids], dtype=np.int64)
        flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        # One key per (term, chunk), sorted by term then chunk; its count is the frequency.
        keys, counts = np.unique(flat * max(len(texts), 1) + rows, return_counts=True)
        terms, chunks = np.divmod(keys, max(len(texts), 1))
        term_ids, starts = np.unique(terms, return_index=True)
        return cls(
            term_ids,
            np.append(starts, len(keys)).astype(np.int64),
            chunks.astype(np.int32),
            counts.astype(np.float32),
            lengths.astype(np.float32),
        )

    def postings(self, term_id: int) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
        at = int(np.searchsorted(self.term_ids, term_id))
        if at == len(self.term_ids) or self.term_ids[at] != term_id:
            return _NO_ROWS, _NO_COUNTS
        start, end = self.offsets[at], self.offsets[at + 1]
        return self.rows[start:end], self.counts[start:end]


_NO_ROWS = np.zeros(0, dtype=np.int32)
_NO_COUNTS = np.zeros(0, dtype=np.float32)


@dataclass
class Segment:
    """One document's searchable chunks, in rowid order."""

    document_id: str
    path: str
    rowids: NDArray[np.int64]
    pages: NDArray[np.int64]  # each chunk's first page: results are ranked by page
    sparse: Sparse
    # encoder name -> (positions in rowids, their vectors); filled as vectors arrive.
    vectors: dict[str, tuple[NDArray[np.int64], NDArray[np.float32]]] = field(default_factory=dict)
    # encoder name -> the pages with at least one vector of it (its ranking covers those).
    covered: dict[str, frozenset[int]] = field(default_factory=dict)
    # Encoders with vectors stored since `vectors` was loaded (appended at the next search).
    stale: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.rowids)


def bm25(
    segments: Sequence[Segment], term_ids: Sequence[int], depth: int
) -> list[tuple[int, int, float]]:
    """(segment index, chunk position, score) of the `depth` best chunks, best first."""
    total = sum(len(segment) for segment in segments)
    if not total or not term_ids:
        return []
    average = float(sum(segment.sparse.lengths.sum() for segment in segments)) / total
    average = max(average, 1.0)
    found = [[segment.sparse.postings(term_id) for term_id in term_ids] for segment in segments]
    frequency = [
        sum(len(rows) for rows, _ in by_segment) for by_segment in zip(*found, strict=True)
    ]
    idf = [float(np.log(1.0 + (total - df + 0.5) / (df + 0.5))) for df in frequency]
    best: list[tuple[int, int, float]] = []
    for index, (segment, by_term) in enumerate(zip(segments, found, strict=True)):
        if not any(len(rows) for rows, _ in by_term):
            continue
        scores = np.zeros(len(segment), dtype=np.float32)
        norm = K1 * (1.0 - B + B * segment.sparse.lengths / average)
        for weight, (rows, counts) in zip(idf, by_term, strict=True):
            if len(rows):
                scores[rows] += weight * counts * (K1 + 1.0) / (counts + norm[rows])
        best.extend((index, int(row), float(scores[row])) for row in top(scores, depth))
    best.sort(key=lambda hit: -hit[2])
    return best[:depth]


def dense(
    segments: Sequence[Segment], encoder: str, query: NDArray[np.float32], depth: int
) -> list[tuple[int, int, float]]:
    """(segment index, chunk position, cosine) of the `depth` nearest chunks with vectors."""
    best: list[tuple[int, int, float]] = []
    for index, segment in enumerate(segments):
        held = segment.vectors.get(encoder)
        if held is None or not len(held[0]):
            continue
        positions, matrix = held
        scores = matrix @ query
        best.extend((index, int(positions[i]), float(scores[i])) for i in top(scores, depth))
    best.sort(key=lambda hit: -hit[2])
    return best[:depth]


def dense_among(
    segments: Sequence[Segment],
    encoder: str,
    query: NDArray[np.float32],
    chunks: Iterable[tuple[int, int]],
) -> list[tuple[int, int, float]]:
    """(segment index, chunk position, cosine) of those chunks that have vectors, best first:
    a ranking of candidates found otherwise, without scanning every vector."""
    by_segment: dict[int, list[int]] = {}
    for index, position in chunks:
        by_segment.setdefault(index, []).append(position)
    found: list[tuple[int, int, float]] = []
    for index, positions in by_segment.items():
        held = segments[index].vectors.get(encoder)
        if held is None or not len(held[0]):
            continue
        vector_positions, matrix = held
        wanted = np.array(positions)
        rows = np.minimum(np.searchsorted(vector_positions, wanted), len(vector_positions) - 1)
        present = vector_positions[rows] == wanted
        scores = matrix[rows[present]] @ query
        kept = wanted[present]
        found.extend((index, int(p), float(score)) for p, score in zip(kept, scores, strict=True))
    found.sort(key=lambda hit: -hit[2])
    return found


def top(scores: NDArray[Any], n: int) -> NDArray[np.int64]:
    """Indexes of the n highest positive scores, best first."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    chosen = np.argpartition(-scores, n - 1)[:n]
    chosen = chosen[np.argsort(-scores[chosen], kind="stable")]
    return chosen[scores[chosen] > 0]
