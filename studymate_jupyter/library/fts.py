"""The FTS5 index layout and ranking, tuned on bench/eval (odd-numbered questions).

Ranking is bm25 over three columns, then a rerank of the best RERANK_DEPTH by how many of
the question's terms a passage contains: bm25 sums per-term scores, so a passage repeating
one rare word can beat one that mentions every word of the question; multiplying by the
share of terms matched ("coordination") prefers the second.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NamedTuple

from .query import build_match_query, query_terms

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Mapping, Sequence

    from ..passages import Chunk

# Porter stemming lets "plotting" find "plot"; remove_diacritics folds "café" to "cafe".
TOKENIZER = "porter unicode61 remove_diacritics 2"
# The table's columns, in order: section titles, the passage, the book index's terms.
COLUMNS = ("heading", "body", "keywords")
# bm25 weight per column: a term in a section title or in the book's own index entry for the
# page says more about a passage than the same term in its running text.
BM25_WEIGHTS = (4.0, 1.0, 4.0)
# How many bm25 results the coverage rerank looks at (more costs highlight() calls).
RERANK_DEPTH = 40
# score = bm25 relevance * (share of question terms matched) ** COVERAGE_POWER
COVERAGE_POWER = 1.0
# Overlapping windows put near-copies of one page in the results; fetch this many times k
# and keep the best chunk per page range so the top k name k different places.
OVERFETCH = 4

_OPEN, _CLOSE = "\x01", "\x02"


def create_table_sql(table: str = "chunks_fts") -> str:
    """DDL for an FTS5 table whose rowid is the chunk's row id in the chunks table."""
    _check_identifier(table)
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} "
        f"USING fts5({', '.join(COLUMNS)}, tokenize='{TOKENIZER}')"
    )


def insert_sql(table: str = "chunks_fts") -> str:
    """INSERT with named parameters :rowid, :heading, :body, :keywords (see index_params)."""
    _check_identifier(table)
    return (
        f"INSERT INTO {table} (rowid, heading, body, keywords) "
        "VALUES (:rowid, :heading, :body, :keywords)"
    )


def index_params(rowids: Sequence[int], chunks: Sequence[Chunk]) -> list[dict[str, object]]:
    """Parameters for insert_sql, one dict per chunk."""
    return [
        {"rowid": rowid, "heading": chunk.heading, "body": chunk.text, "keywords": chunk.keywords}
        for rowid, chunk in zip(rowids, chunks, strict=True)
    ]


def rank_sql() -> str:
    """The bm25 expression for chunks_fts (lower is better)."""
    return f"bm25(chunks_fts, {', '.join(str(weight) for weight in BM25_WEIGHTS)})"


def marked_sql(table: str = "chunks_fts") -> str:
    """SELECT rowid, matched text for parameters :q (match expression), :ids (JSON rowids).

    highlight() runs only on the listed rows; in the ranking query itself SQLite would run it
    on every matching row before sorting.
    """
    _check_identifier(table)
    # coalesce: rows indexed before the keywords column existed hold NULL there, and one NULL
    # would turn the whole concatenation into NULL.
    marked = " || char(10) || ".join(
        f"coalesce(highlight({table}, {column}, char(1), char(2)), '')"
        for column in range(len(COLUMNS))
    )
    return (
        f"SELECT rowid, {marked} FROM {table} WHERE {table} MATCH :q "
        "AND rowid IN (SELECT value FROM json_each(:ids))"
    )


def coverage(terms: Sequence[str], marked: str) -> float:
    """Share of `terms` that highlight() marked in `marked` (0..1).

    A marked word matched some term's stem; it is credited to the term it shares the longest
    prefix with, which is that term unless two terms share a stem.
    """
    if not terms:
        return 0.0
    matched: set[str] = set()
    for piece in marked.split(_OPEN)[1:]:
        for word in piece.split(_CLOSE, 1)[0].lower().split():
            best = max(terms, key=lambda term: _common_prefix(term, word))
            matched.add(best)
    return len(matched) / len(terms)


def _common_prefix(a: str, b: str) -> int:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


def rerank(
    terms: Sequence[str], ranked: Sequence[tuple[int, float]], marked: Mapping[int, str]
) -> list[tuple[int, float]]:
    """(rowid, relevance) best first: bm25 relevance (positive) times coverage ** power."""
    return rerank_covered(
        ranked, {rowid: coverage(terms, marked.get(rowid, "")) for rowid, _ in ranked}
    )


def rerank_covered(
    ranked: Sequence[tuple[int, float]], covered: Mapping[int, float]
) -> list[tuple[int, float]]:
    """(rowid, relevance) best first: relevance times its share of terms matched ** power
    (PostgreSQL's search counts the matched terms itself: library/pg_search.py)."""
    scored = [
        (rowid, relevance * covered.get(rowid, 0.0) ** COVERAGE_POWER)
        for rowid, relevance in ranked
    ]
    # Stable: equal scores keep the first ranking's order.
    return sorted(scored, key=lambda pair: -pair[1])


def marked_params(expression: str, rowids: Iterable[int]) -> dict[str, object]:
    return {"q": expression, "ids": json.dumps(list(rowids))}


class Hit(NamedTuple):
    """A search result: the chunk's rowid and its relevance (higher is better)."""

    rowid: int
    score: float


def insert_chunks(
    conn: sqlite3.Connection, rows: Iterable[tuple[int, Chunk]], table: str = "chunks_fts"
) -> None:
    """Index (rowid, chunk) pairs."""
    pairs = list(rows)
    conn.executemany(insert_sql(table), index_params([r for r, _ in pairs], [c for _, c in pairs]))


def search(
    conn: sqlite3.Connection, question: str, k: int = 5, table: str = "chunks_fts"
) -> list[Hit]:
    """The k best chunks for a question, ranked as the server ranks them (no page collapsing)."""
    _check_identifier(table)
    expression = build_match_query(question)
    if expression is None:
        return []
    weights = ", ".join(str(weight) for weight in BM25_WEIGHTS)
    ranked = [
        (int(rowid), -float(score))
        for rowid, score in conn.execute(
            f"SELECT rowid, bm25({table}, {weights}) AS score FROM {table} "
            f"WHERE {table} MATCH ? ORDER BY score LIMIT ?",
            (expression, max(k, RERANK_DEPTH)),
        )
    ]
    params = marked_params(expression, [rowid for rowid, _ in ranked])
    marked = dict(conn.execute(marked_sql(table), params).fetchall())
    return [Hit(r, s) for r, s in rerank(query_terms(question), ranked, marked)[:k]]


def _check_identifier(name: str) -> None:
    # Table names are interpolated into SQL, so they must be plain identifiers.
    if not name.replace("_", "").isalnum() or name[0].isdigit():
        raise ValueError(f"not a plain SQL identifier: {name!r}")


class Located(NamedTuple):
    """A hit with where it points: document and 1-based page range."""

    rowid: int
    score: float
    document: str
    page_start: int
    page_end: int


def distinct_places(hits: Iterable[Located], k: int) -> list[Located]:
    """The first k hits whose page ranges do not overlap a better hit in the same document."""
    kept: list[Located] = []
    for hit in hits:
        if any(
            hit.document == other.document
            and hit.page_start <= other.page_end
            and other.page_start <= hit.page_end
            for other in kept
        ):
            continue
        kept.append(hit)
        if len(kept) == k:
            break
    return kept
