"""The FTS5 index layout and ranking the chunker was tuned with (see bench/eval)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from .query import build_match_query

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable

    from .chunking import Chunk

# Porter stemming lets "plotting" find "plot"; remove_diacritics folds "café" to "cafe".
TOKENIZER = "porter unicode61 remove_diacritics 2"
# bm25 weight per column (heading, body): a term in a section title says more about a
# passage than the same term in its running text.
BM25_WEIGHTS = (4.0, 1.0)


def create_table_sql(table: str = "chunks_fts") -> str:
    """DDL for an FTS5 table whose rowid is the chunk's row id in the chunks table."""
    _check_identifier(table)
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} "
        f"USING fts5(heading, body, tokenize='{TOKENIZER}')"
    )


def search_sql(table: str = "chunks_fts") -> str:
    """SELECT rowid, score (lower is better) for parameters (match expression, limit)."""
    _check_identifier(table)
    weights = ", ".join(str(weight) for weight in BM25_WEIGHTS)
    return (
        f"SELECT rowid, bm25({table}, {weights}) AS score FROM {table} "
        f"WHERE {table} MATCH ? ORDER BY score LIMIT ?"
    )


class Hit(NamedTuple):
    """A search result: the chunk's rowid and its bm25 score (lower is better)."""

    rowid: int
    score: float


def insert_chunks(
    conn: sqlite3.Connection, rows: Iterable[tuple[int, Chunk]], table: str = "chunks_fts"
) -> None:
    """Index (rowid, chunk) pairs."""
    _check_identifier(table)
    conn.executemany(
        f"INSERT INTO {table}(rowid, heading, body) VALUES (?, ?, ?)",
        ((rowid, chunk.heading, chunk.text) for rowid, chunk in rows),
    )


def search(
    conn: sqlite3.Connection, question: str, k: int = 5, table: str = "chunks_fts"
) -> list[Hit]:
    """The k best chunks for a question; empty if it has no searchable words."""
    expression = build_match_query(question)
    if expression is None:
        return []
    return [
        Hit(int(rowid), float(score))
        for rowid, score in conn.execute(search_sql(table), (expression, k))
    ]


def _check_identifier(name: str) -> None:
    # Table names are interpolated into SQL, so they must be plain identifiers.
    if not name.replace("_", "").isalnum() or name[0].isdigit():
        raise ValueError(f"not a plain SQL identifier: {name!r}")


# Overlapping windows put near-copies of one page in the results; fetch this many times k
# and keep the best chunk per page range so the top k name k different places.
OVERFETCH = 4


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
