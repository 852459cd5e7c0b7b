"""Retrieval as a swappable part: index chunks, find the passages that answer a question."""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from ..parts import Part
from ..passages import Hit, Scope, library_of, readable_by
from . import fts, pg_search
from .fts import Located, distinct_places
from .query import build_match_query, query_terms

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from ..passages import Chunk
    from ..protocol import RetrievalInfo
    from .encoders import Encoder


class Retriever(Part):
    """Ranks a user's chunks for a question. Runs on database threads, inside a session.

    Every retriever, built-in or not, is built as `cls(parent=app)` (keyword arguments only,
    `parent` the StudyMate app); settings beyond that are its own traits
    (`x = Int(config=True, help=...)`), set as `c.ClassName.x`. `c.StudyMate.retriever`
    names it: "bm25", "hybrid", an entry point of the group `studymate.retrievers`, or
    "package.module:Class".
    """

    #: The name `c.StudyMate.retriever` selects it by.
    name: str = ""

    def info(self) -> RetrievalInfo:
        """What `GET studymate/api/retrieval` says: the signals ranked by, and any notice (a
        signal missing, and how to add it) for the Library tab to show."""
        return {"name": self.name, "signals": [self.name], "notice": None}

    def encoders(self) -> Sequence[Encoder]:
        """The encoders whose vectors this retriever ranks with. The library computes them for
        every indexed document in the background (a document's `vectors` step) and stores
        them (store/vectors.py); none means there is no vector step (`vectors: off`)."""
        return ()

    def vectors_added(self, session: Session, document_id: str) -> None:
        """More of a document's vectors were stored, inside the (short) write that stored them."""

    def forget(self, document_id: str | None) -> None:
        """Drop what is held in memory for a document that another server re-indexed or
        removed (None: for every document, when what other servers said may have been
        missed), so the next search reads it from the database."""

    def warm(self, session: Session) -> None:
        """At start, on a database thread: build what searches need in memory (after a
        restart), so the first question does not wait for it."""

    def prepare(self, chunks: list[Chunk]) -> object:
        """Slow work for `index` (embedding, say), done on a worker thread before the write.

        The database writer is shared with every chat, so nothing slow may run inside it.
        """
        return None

    @abstractmethod
    def index(
        self, session: Session, rowids: list[int], chunks: list[Chunk], prepared: object
    ) -> None:
        """Make freshly stored chunks searchable, inside the (short) write that stored them."""

    @abstractmethod
    def unindex(self, session: Session, rowids: list[int]) -> None:
        """Forget retired chunks (their rows stay for citations)."""

    @abstractmethod
    def search(
        self, session: Session, user_id: str, question: str, k: int, scope: Scope | None
    ) -> list[Hit]:
        """The k best passages, best first, in k different places."""


HIT_COLUMNS = """c.rowid, c.id, c.document_id, d.filename, d.path, c.page_start, c.page_end,
    c.anchor, c.heading, c.text, d.user_id"""
# Chunks `c` the user may read: their own and the course library's (params from owner_params).
READABLE_SQL = "c.user_id IN (:user, :course)"


def owner_params(user_id: str) -> dict[str, object]:
    user, course = readable_by(user_id)
    return {"user": user, "course": course}


def scope_sql(session: Session, scope: Scope | None, params: dict[str, object]) -> str:
    """SQL conditions on documents `d` for a scope, filling `params`."""
    if scope is None:
        return ""
    sql = ""
    if scope.folder:
        folder = scope.folder.strip("/")
        for special in ("\\", "%", "_"):
            folder = folder.replace(special, "\\" + special)
        params["folder"] = folder + "/%"
        sql += " AND d.path LIKE :folder ESCAPE '\\'"
    if scope.document_ids is not None:
        params["document_ids"] = pg_search.list_param(session, list(scope.document_ids))
        sql += " AND " + pg_search.strings_in(session, "d.id", "document_ids")
    return sql


def hit_from_row(row: Any, score: float) -> Hit:
    """A Hit from a row selected with HIT_COLUMNS first."""
    rowid, chunk_id, document_id, filename, path, start, end, anchor, heading, body = row[:10]
    place = (chunk_id, document_id, filename, path, start, end, anchor, heading, body)
    return Hit(int(rowid), *place, score, library_of(row[10]))


def keep_distinct(hits: list[Hit], k: int) -> list[Hit]:
    """Overlapping windows repeat a page: keep the best hit per page range."""
    located = [
        Located(i, h.score, h.document_id, h.page_start, h.page_end) for i, h in enumerate(hits)
    ]
    return [hits[place.rowid] for place in distinct_places(located, k)]


# How many more index rows than wanted the first, index-only ranking looks at.
FILTER_HEADROOM = 4


class Bm25Retriever(Retriever):
    """The default: SQLite FTS5 with bm25 ranking, in the same database, no network."""

    name = "bm25"

    def index(
        self, session: Session, rowids: list[int], chunks: list[Chunk], prepared: object
    ) -> None:
        if pg_search.is_postgresql(session):
            pg_search.index(session, rowids, chunks)
        elif rowids:
            session.execute(text(fts.insert_sql()), fts.index_params(rowids, chunks))

    def unindex(self, session: Session, rowids: list[int]) -> None:
        if pg_search.is_postgresql(session):
            pg_search.unindex(session, rowids)
        elif rowids:
            session.execute(
                text("DELETE FROM chunks_fts WHERE rowid IN (SELECT value FROM json_each(:ids))"),
                {"ids": json.dumps(rowids)},
            )

    def search(
        self, session: Session, user_id: str, question: str, k: int, scope: Scope | None
    ) -> list[Hit]:
        if pg_search.is_postgresql(session):
            return self._search_postgresql(session, user_id, question, k, scope)
        expression = build_match_query(question)
        if expression is None:
            return []
        n = max(k * fts.OVERFETCH, fts.RERANK_DEPTH)
        params: dict[str, object] = {"q": expression, **owner_params(user_id), "n": n}
        filters = f"{READABLE_SQL} AND c.retired = 0 AND d.removed_at IS NULL" + scope_sql(
            session, scope, params
        )
        # Joining every matching row before sorting costs as much as ranking them. So rank
        # in the index alone first: when its best rows hold n of the user's, those are the n
        # best. Otherwise (other users' or out-of-scope rows on top) rank after the join.
        params["depth"] = n * FILTER_HEADROOM
        rows = session.execute(
            text(
                f"""SELECT {HIT_COLUMNS}, best.rank FROM (
                    SELECT rowid, {fts.rank_sql()} AS rank FROM chunks_fts
                    WHERE chunks_fts MATCH :q ORDER BY rank LIMIT :depth
                ) best
                JOIN chunks c ON c.rowid = best.rowid
                JOIN documents d ON d.id = c.document_id
                WHERE {filters} ORDER BY best.rank LIMIT :n"""
            ),
            params,
        ).all()
        if len(rows) < n:
            # Not the query above without its LIMIT: sorting every match in a subquery before
            # the join made this path about 3.5x slower at 100k chunks.
            rows = session.execute(
                text(
                    f"""SELECT {HIT_COLUMNS}, {fts.rank_sql()} AS rank
                    FROM chunks_fts
                    JOIN chunks c ON c.rowid = chunks_fts.rowid
                    JOIN documents d ON d.id = c.document_id
                    WHERE chunks_fts MATCH :q AND {filters}
                    ORDER BY rank LIMIT :n"""
                ),
                params,
            ).all()
        if not rows:
            return []
        by_rowid = {int(row[0]): row for row in rows}
        marked: dict[int, str] = dict(
            session.execute(text(fts.marked_sql()), fts.marked_params(expression, by_rowid)).all()
        )
        # bm25() is lower-is-better and negative; relevance is positive, reranked by coverage.
        ranked = fts.rerank(
            query_terms(question), [(rowid, -row[-1]) for rowid, row in by_rowid.items()], marked
        )
        hits = [hit_from_row(by_rowid[rowid], round(score, 4)) for rowid, score in ranked]
        return keep_distinct(hits, k)

    def _search_postgresql(
        self, session: Session, user_id: str, question: str, k: int, scope: Scope | None
    ) -> list[Hit]:
        """The same ranking on chunk_search: ts_rank with the column weights, the coverage
        rerank of the best, the best chunk per place."""
        terms = query_terms(question)
        if not terms:
            return []
        n = max(k * fts.OVERFETCH, fts.RERANK_DEPTH)
        params: dict[str, object] = {
            **pg_search.rank_params(terms),
            **owner_params(user_id),
            "n": n,
        }
        filters = f"{READABLE_SQL} AND NOT c.retired AND d.removed_at IS NULL" + scope_sql(
            session, scope, params
        )
        # The GIN index finds the matching rows; the planner joins before ranking, so no
        # two-step ranking as on SQLite.
        rows = session.execute(
            text(
                f"""WITH {pg_search.QUERY_CTE}
                SELECT {HIT_COLUMNS}, {pg_search.rank_sql()} AS rank
                FROM q, stats, chunk_search s
                JOIN chunks c ON c.rowid = s.rowid
                JOIN documents d ON d.id = c.document_id
                WHERE s.terms @@ q.query AND {filters}
                ORDER BY rank DESC, c.rowid LIMIT :n"""
            ),
            params,
        ).all()
        if not rows:
            return []
        by_rowid = {int(row[0]): row for row in rows}
        covered = pg_search.covered(session, terms, list(by_rowid))
        ranked = fts.rerank_covered(
            [(rowid, float(row[-1])) for rowid, row in by_rowid.items()], covered
        )
        hits = [hit_from_row(by_rowid[rowid], round(score, 4)) for rowid, score in ranked]
        return keep_distinct(hits, k)
