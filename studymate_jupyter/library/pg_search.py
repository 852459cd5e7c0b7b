"""Full-text search on PostgreSQL, ranked as library/fts.py ranks on SQLite.

The chunk_search table (schema revision 8) holds each searchable chunk's heading, passage
and keywords and their weighted tsvector. A question becomes the same OR of its terms as
on SQLite (query.query_terms), given to websearch_to_tsquery: the terms are letters, digits
and inner apostrophes only, so nothing a person types reaches PostgreSQL as tsquery syntax.
It is ranked by FTS5's bm25 formula computed from the tsvector (rank_sql); the coverage
rerank asks which of the terms each candidate matches, where FTS5's highlight() marks them.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from . import fts

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from ..passages import Chunk

# Stemming as FTS5's porter tokenizer does (Snowball English is Porter's own successor).
CONFIG = "english"
# Each label's weight in a term's frequency, as bm25() weighs FTS5's columns: the heading is
# labelled A, the keywords B and the body D (schema revision 8).
_HEADING, _BODY, _KEYWORDS = fts.BM25_WEIGHTS
LABEL_WEIGHTS = {"A": _HEADING, "B": _KEYWORDS, "D": _BODY}
# FTS5's bm25() constants (fts5_aux.c).
K1, B = 1.2, 0.75
# What FTS5's unicode61 tokenizer counts as a token, for a passage's length.
_TOKEN = re.compile(r"[^\W_]+")


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def rowids_in(session: Session, column: str, name: str) -> str:
    """A condition `column` is one of the integers bound as `name` (see list_param)."""
    if is_postgresql(session):
        return f"{column} = ANY(CAST(:{name} AS BIGINT[]))"
    return f"{column} IN (SELECT value FROM json_each(:{name}))"


def strings_in(session: Session, column: str, name: str) -> str:
    """A condition `column` is one of the strings bound as `name` (see list_param)."""
    if is_postgresql(session):
        return f"{column} = ANY(CAST(:{name} AS TEXT[]))"
    return f"{column} IN (SELECT value FROM json_each(:{name}))"


def list_param(session: Session, values: Sequence[Any]) -> object:
    """A list bound for rowids_in / strings_in: an array on PostgreSQL, JSON on SQLite."""
    return list(values) if is_postgresql(session) else json.dumps(list(values))


def query_text(terms: Sequence[str]) -> str:
    """websearch_to_tsquery's input for an OR of `terms` (sanitized words, never operators:
    query_terms drops "or" and "and" as stop words and every quote and minus sign)."""
    return " or ".join(terms)


def index(session: Session, rowids: Sequence[int], chunks: Sequence[Chunk]) -> None:
    """Make freshly stored chunks searchable (as fts.insert_sql does for chunks_fts)."""
    if rowids:
        session.execute(
            text(
                "INSERT INTO chunk_search (rowid, heading, body, keywords, words) "
                "VALUES (:rowid, :heading, :body, :keywords, :words)"
            ),
            [
                {
                    **params,
                    "keywords": params["keywords"] or "",
                    "words": len(_TOKEN.findall(f"{chunk.heading} {chunk.text} {chunk.keywords}")),
                }
                for params, chunk in zip(fts.index_params(rowids, chunks), chunks, strict=True)
            ],
        )


def unindex(session: Session, rowids: Sequence[int]) -> None:
    """Forget retired chunks (their rows in chunks stay for citations)."""
    if rowids:
        session.execute(
            text("DELETE FROM chunk_search WHERE rowid = ANY(CAST(:ids AS BIGINT[]))"),
            {"ids": list(rowids)},
        )


def rank_sql() -> str:
    """bm25 of chunk_search `s` as FTS5's bm25() computes it (higher is better here), with
    the CTEs of QUERY_CTE.

    ts_rank has no inverse document frequency: with it, a passage repeating a common word
    of the question outranked one naming its rare word (hit@1 0.39 against FTS5's 0.52 on
    bench/eval; with idf times ts_rank 0.36 to 0.41 by its normalization). So, per term: its
    frequency in the passage from the tsvector's positions, each weighted by its label as
    BM25_WEIGHTS weighs columns, saturated by k1 and the passage's length against the
    average, times the term's idf.

    It runs once per matching row, so it is kept cheap: the row's tsvector is unnested once,
    only the question's lexemes kept (query_lexemes), and those joined to their terms by
    equality (term_lexemes). Joining the terms on `lexeme = ANY(w.lexemes)` unnested the
    tsvector once per term: 0.11 ms a row, 320 of 418 ms for a question matching 2,905 of
    100,000 chunks; now 0.04 ms. The sums are the same, term by term.
    """
    weight = " ".join(f"WHEN '{label}' THEN {w}" for label, w in LABEL_WEIGHTS.items())
    return f"""(SELECT sum(f.idf * f.tf * {K1 + 1}
            / (f.tf + {K1} * (1 - {B} + {B} * s.words / stats.average)))
        FROM (
            SELECT w.term, w.idf, sum(CASE label {weight} ELSE 0 END) AS tf
            FROM query_lexemes ql
            CROSS JOIN unnest(s.terms) AS u(lexeme, positions, labels)
            JOIN term_lexemes w ON w.lexeme = u.lexeme
            CROSS JOIN unnest(u.labels) AS label
            WHERE u.lexeme = ANY(ql.lexemes)
            GROUP BY w.term, w.idf
        ) f)"""


def rank_params(terms: Sequence[str]) -> dict[str, object]:
    return {"q": query_text(terms), "terms": list(terms)}


# q: the question's OR of terms. weighted: each term's lexemes (its stems) and idf as FTS5
# computes it, counted over the whole index (FTS5's statistics are the table's too); stats
# reads the lengths off ix_chunk_search_words (revision 9), not the table. term_lexemes: one
# row per (term, lexeme); query_lexemes: all of them, for rank_sql's filter.
QUERY_CTE = f"""q AS (SELECT websearch_to_tsquery('{CONFIG}', :q) AS query),
    each_term AS (
        SELECT t.term, plainto_tsquery('{CONFIG}', t.term) AS query,
            tsvector_to_array(to_tsvector('{CONFIG}', t.term)) AS lexemes
        FROM unnest(CAST(:terms AS TEXT[])) AS t(term)
    ),
    stats AS MATERIALIZED (
        SELECT count(*) AS n, greatest(avg(words), 1) AS average FROM chunk_search
    ),
    weighted AS MATERIALIZED (
        SELECT e.term, e.lexemes,
            greatest(ln((stats.n - f.df + 0.5) / (f.df + 0.5)), 1e-6) AS idf
        FROM each_term e CROSS JOIN stats
        CROSS JOIN LATERAL (
            SELECT count(*) AS df FROM chunk_search x WHERE x.terms @@ e.query
        ) f
        WHERE numnode(e.query) > 0
    ),
    term_lexemes AS MATERIALIZED (
        SELECT w.term, w.idf, l.lexeme FROM weighted w CROSS JOIN unnest(w.lexemes) AS l(lexeme)
    ),
    query_lexemes AS MATERIALIZED (SELECT array_agg(lexeme) AS lexemes FROM term_lexemes)"""


def covered(session: Session, terms: Sequence[str], rowids: Sequence[int]) -> dict[int, float]:
    """Share of `terms` each chunk matches (0..1), what fts.coverage reads off highlight()."""
    if not terms or not rowids:
        return {}
    rows = session.execute(
        text(
            f"""SELECT s.rowid, count(*) FROM chunk_search s
            CROSS JOIN unnest(CAST(:terms AS TEXT[])) AS t(term)
            WHERE s.rowid = ANY(CAST(:ids AS BIGINT[]))
              AND s.terms @@ plainto_tsquery('{CONFIG}', t.term)
            GROUP BY s.rowid"""
        ),
        {"terms": list(terms), "ids": list(rowids)},
    ).all()
    return {int(rowid): int(count) / len(terms) for rowid, count in rows}
