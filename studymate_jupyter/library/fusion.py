"""Reciprocal rank fusion at page level: pages are ranked, each by its best chunk.

On a held-out set of student questions over real manuals, a page's score as its best
chunk's (page-max) beat summing its chunks, and RRF of BM25, MiniLM and wordllama over pages
beat each alone and every fusion of chunks (issue 12's measurements; bench/eval repeats them).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Sequence

# (segment index, chunk position): a chunk of a user's library in memory.
ChunkKey = tuple[int, int]


class Ranking(NamedTuple):
    """One signal's chunks, best first, and which pages it could rank at all."""

    weight: float
    chunks: Sequence[ChunkKey]
    # False for a page it cannot rank (no vectors yet); None: it ranks every page.
    covers: Callable[[Hashable], bool] | None = None


def fuse_pages(
    rankings: Sequence[Ranking],
    page_of: Callable[[ChunkKey], Hashable],
    rrf_k: float,
) -> list[tuple[ChunkKey, float]]:
    """(best chunk of each page, page score), best page first.

    Each ranking ranks pages in the order their first chunk appears; a page scores
    sum(weight / (rrf_k + its rank)) over the rankings, divided by the weight of those that
    could rank it: while vectors are being computed, a page whose document has none yet is
    not outvoted by pages that have them. The chunk shown for a page is the one the same
    sum over chunk ranks rates highest.
    """
    page_scores: dict[Hashable, float] = defaultdict(float)
    chunk_scores: dict[ChunkKey, float] = defaultdict(float)
    chunks_of: dict[Hashable, list[ChunkKey]] = defaultdict(list)
    for weight, ranking, _ in rankings:
        page_ranks: dict[Hashable, int] = {}
        for rank, chunk in enumerate(ranking, start=1):
            if chunk not in chunk_scores:
                chunks_of[page_of(chunk)].append(chunk)
            chunk_scores[chunk] += weight / (rrf_k + rank)
            page_ranks.setdefault(page_of(chunk), len(page_ranks) + 1)
        for page, rank in page_ranks.items():
            page_scores[page] += weight / (rrf_k + rank)
    for page in page_scores:
        weights = sum(r.weight for r in rankings if r.covers is None or r.covers(page))
        page_scores[page] /= weights or 1.0
    ordered = sorted(page_scores, key=lambda page: -page_scores[page])
    return [
        (max(chunks_of[page], key=lambda chunk: chunk_scores[chunk]), page_scores[page])
        for page in ordered
    ]
