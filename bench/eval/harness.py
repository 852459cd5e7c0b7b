"""Index the manuals and ask the questions through the server's own code path.

Each ranking gets a fresh SQLite `Database` (schema by the server's migrations); each manual
is registered with `upsert_document`, parsed in the limited worker process, chunked, stored
with `replace_chunks` and indexed by the retriever in one write, as the ingestion service
does; every question is a `retriever.search` in a read session.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from studymate_jupyter import passages
from studymate_jupyter.library import bookindex, parsers
from studymate_jupyter.library.query import build_match_query
from studymate_jupyter.library.retrieval import HIT_COLUMNS, Retriever, hit_from_row
from studymate_jupyter.library.worker import parse_document
from studymate_jupyter.passages import Chunk, Hit, ParsedDocument, Scope
from studymate_jupyter.store import library as library_rows
from studymate_jupyter.store.db import Database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

USER = "student"
K = 5
MB = 2**20

Chunker = Callable[[ParsedDocument], list[Chunk]]


@dataclass(frozen=True)
class Question:
    id: str
    file: str
    pages: tuple[int, ...]
    question: str

    @property
    def number(self) -> int:
        return int(self.id.lstrip("q"))


def load_questions(path: Path) -> list[Question]:
    return [
        Question(q["id"], q["file"], tuple(q["pages"]), q["question"])
        for q in json.loads(path.read_text())["questions"]
    ]


# ---- parsing (cached: pypdf takes about a minute over 1,469 pages) ---------------------------


def parse_manuals(manuals: dict[str, Path], cache: Path | None) -> dict[str, ParsedDocument]:
    """Parse each PDF in the server's worker process; reuse a parse of the same bytes + parser."""
    # A parse is reused only while every parser module and the index reader are unchanged.
    modules = [*sorted(Path(str(parsers.__file__)).parent.glob("*.py")), Path(bookindex.__file__)]
    sources = b"".join(path.read_bytes() for path in modules)
    parser_hash = hashlib.sha256(sources).hexdigest()[:12]
    parsed: dict[str, ParsedDocument] = {}
    for name, path in manuals.items():
        key = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        stored = cache / f"parsed-{name}-{key}-{parser_hash}.pkl" if cache else None
        if stored is not None and stored.exists():
            parsed[name] = pickle.loads(stored.read_bytes())
            continue
        parsed[name] = parse_document(path, max_bytes=200 * MB, timeout=600, max_memory=4096 * MB)
        if stored is not None:
            stored.write_bytes(pickle.dumps(parsed[name]))
    return parsed


# ---- the baseline: fixed 150-word chunks, plain bm25 -----------------------------------------


def fixed_chunks(document: ParsedDocument, size: int = 150) -> list[Chunk]:
    """Consecutive `size`-word chunks over the whole document, blind to pages and headings."""
    words: list[tuple[int, int, int]] = []  # (start, end, page)
    offset = 0
    for unit in document.units:
        for start, end in _spans(unit.text):
            words.append((offset + start, offset + end, unit.page))
        offset += len(unit.text) + len(passages.UNIT_SEPARATOR)
    full = document.text
    chunks: list[Chunk] = []
    for start in range(0, len(words), size):
        first, last = words[start], words[min(start + size, len(words)) - 1]
        body = " ".join(full[s:e] for s, e, _ in words[start : start + size])
        chunks.append(Chunk(len(chunks), first[2], last[2], first[0], last[1], body, None, ""))
    return chunks


def _spans(value: str) -> list[tuple[int, int]]:
    import re

    return [(m.start(), m.end()) for m in re.finditer(r"\S+", value)]


class PlainBm25Retriever(Retriever):
    """The baseline to beat: one body column, unicode61 without stemming, bm25, no collapsing."""

    name = "plain-bm25"

    def __init__(self) -> None:
        self._created = False

    def _table(self, session: Session) -> None:
        if not self._created:
            session.execute(
                text("CREATE VIRTUAL TABLE IF NOT EXISTS baseline_fts USING fts5(body)")
            )
            self._created = True

    def index(
        self, session: Session, rowids: list[int], chunks: list[Chunk], prepared: object
    ) -> None:
        self._table(session)
        session.execute(
            text("INSERT INTO baseline_fts (rowid, body) VALUES (:rowid, :body)"),
            [{"rowid": r, "body": c.text} for r, c in zip(rowids, chunks, strict=True)],
        )

    def unindex(self, session: Session, rowids: list[int]) -> None:
        if rowids:
            session.execute(
                text("DELETE FROM baseline_fts WHERE rowid IN (SELECT value FROM json_each(:ids))"),
                {"ids": json.dumps(rowids)},
            )

    def search(
        self, session: Session, user_id: str, question: str, k: int, scope: Scope | None
    ) -> list[Hit]:
        expression = build_match_query(question)
        if expression is None:
            return []
        rows = session.execute(
            text(
                f"""SELECT {HIT_COLUMNS}, bm25(baseline_fts) AS rank
                FROM baseline_fts
                JOIN chunks c ON c.rowid = baseline_fts.rowid
                JOIN documents d ON d.id = c.document_id
                WHERE baseline_fts MATCH :q AND c.user_id = :user AND c.retired = 0
                ORDER BY rank LIMIT :k"""
            ),
            {"q": expression, "user": user_id, "k": k},
        ).all()
        return [hit_from_row(row, -float(row[-1])) for row in rows]


# ---- one ranking, end to end -----------------------------------------------------------------


@dataclass
class Outcome:
    label: str
    chunks: int
    prepare_seconds: float
    index_seconds: float
    search_ms_median: float
    ranks: dict[str, int | None] = field(default_factory=dict)  # question id -> 1-based rank

    def hit_at(self, k: int, questions: list[Question]) -> float:
        found = [self.ranks[q.id] for q in questions]
        return sum(1 for rank in found if rank is not None and rank <= k) / len(questions)

    def mrr(self, questions: list[Question]) -> float:
        """Mean reciprocal rank of the answer in the top K (0 when missing): less noisy than
        hit@1 on 33 questions, since a move from rank 4 to 2 counts too."""
        found = [self.ranks[q.id] for q in questions]
        return sum(1 / rank for rank in found if rank is not None) / len(questions)


def is_answer(hit: Hit, question: Question) -> bool:
    return hit.filename == question.file and any(
        hit.page_start <= page <= hit.page_end for page in question.pages
    )


def _ingest(
    db: Database,
    retriever: Retriever,
    name: str,
    path: Path,
    document: ParsedDocument,
    chunks: list[Chunk],
) -> tuple[float, float]:
    """Register, store and index one manual as the ingestion service does; (prepare s, write s)."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    upserted = db.write_sync(
        lambda s: library_rows.upsert_document(s, USER, name, "pdf", len(data), sha)
    )
    document_id = upserted.document["id"]
    started = time.perf_counter()
    prepared = retriever.prepare(chunks)
    prepare_seconds = time.perf_counter() - started

    def store(session: Session) -> None:
        replaced = library_rows.replace_chunks(session, document_id, sha, document.pages, chunks)
        assert replaced is not None
        retriever.unindex(session, replaced.retired)
        retriever.index(session, replaced.added, chunks, prepared)

    started = time.perf_counter()
    db.write_sync(store)
    return prepare_seconds, time.perf_counter() - started


def _ask(db: Database, retriever: Retriever, question: str) -> list[Hit]:
    return db.read_sync(lambda s: retriever.search(s, USER, question, K, None))


def evaluate(
    label: str,
    retriever: Retriever,
    chunker: Chunker,
    documents: dict[str, ParsedDocument],
    manuals: dict[str, Path],
    questions: list[Question],
    *,
    on_hits: Callable[[Question, list[Hit]], None] | None = None,
    db_url: str | None = None,
) -> Outcome:
    """Ingest every manual into a new database with `retriever`, then ask every question.

    `db_url`: an empty database to use (PostgreSQL's, say) instead of a new SQLite file."""
    with tempfile.TemporaryDirectory(prefix="studymate-eval-") as tmp:
        db = Database(db_url or f"sqlite:///{tmp}/eval.db")
        try:
            total = prepare_time = index_time = 0.0
            for name, document in documents.items():
                chunks = chunker(document)
                total += len(chunks)
                prepared, index = _ingest(db, retriever, name, manuals[name], document, chunks)
                prepare_time += prepared
                index_time += index
            started = time.perf_counter()
            compute_vectors(db, retriever)
            prepare_time += time.perf_counter() - started
            outcome = Outcome(label, int(total), prepare_time, index_time, 0.0)
            timings: list[float] = []
            for question in questions:
                started = time.perf_counter()
                hits = _ask(db, retriever, question.question)
                timings.append(time.perf_counter() - started)
                outcome.ranks[question.id] = next(
                    (i for i, hit in enumerate(hits, 1) if is_answer(hit, question)), None
                )
                if on_hits is not None:
                    on_hits(question, hits)
            timings.sort()
            outcome.search_ms_median = round(timings[len(timings) // 2] * 1000, 2)
        finally:
            db.close()
    return outcome


# ---- vectors (bench only: MiniLM takes minutes over the manuals' chunks) -------------------


class CachedEncoder:
    """Wraps an encoder with an on-disk cache keyed by the model's name and the text's hash."""

    def __init__(self, inner: Any, folder: Path) -> None:
        self.inner = inner
        self.name = str(inner.name)
        self.cost = float(inner.cost)
        # One folder per model: vectors of different models must never be mixed.
        self.folder = folder / self.name
        self.computed = 0
        self.seconds = 0.0

    def _path(self, value: str) -> Path:
        digest = hashlib.sha256(value.encode()).hexdigest()
        return self.folder / digest[:2] / f"{digest}.npy"

    def encode(self, texts: Any) -> Any:
        import numpy as np

        texts = list(texts)
        if len(texts) == 1:  # a question: neither timed nor kept
            return self.inner.encode(texts)
        found: dict[int, Any] = {}
        todo: list[int] = []
        for i, value in enumerate(texts):
            path = self._path(value)
            if path.exists():
                found[i] = np.load(path)
            else:
                todo.append(i)
        if todo:
            started = time.perf_counter()
            fresh = self.inner.encode([texts[i] for i in todo])
            self.seconds += time.perf_counter() - started
            self.computed += len(todo)
            for i, vector in zip(todo, fresh, strict=True):
                path = self._path(texts[i])
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, vector)
                found[i] = vector
        return np.stack([found[i] for i in range(len(texts))]).astype(np.float32)


def compute_vectors(db: Database, retriever: Retriever, batch: int = 256) -> None:
    """Every document's vectors, as the server's background vector step stores them."""
    from studymate_jupyter.library.encoders import passage_text
    from studymate_jupyter.store import vectors as vector_rows

    documents = db.read_sync(
        lambda s: [row[0] for row in s.execute(text("SELECT id FROM documents")).all()]
    )
    for document_id in documents:
        for encoder in retriever.encoders():
            while missing := db.read_sync(
                lambda s, e=encoder, d=document_id: vector_rows.missing(s, d, e.name, batch)
            ):
                matrix = encoder.encode([passage_text(h, b) for _, h, b in missing])
                rowids = [rowid for rowid, _, _ in missing]

                def store(session: Session, e: Any = encoder, d: str = document_id) -> None:
                    vector_rows.put(session, e.name, rowids, matrix)  # noqa: B023
                    retriever.vectors_added(session, d)

                db.write_sync(store)
