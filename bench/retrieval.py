"""Figure 6: retrieval. Ingestion pages/s of a real PDF, search latency at many chunks, and
the time to the first streamed answer piece, with the default offline (extractive) assistant.

The PDF is the GNU Octave manual from `bench/eval/fetch.py` (bench/.cache/, not committed);
without it, or in `--quick`, the library is made from a generated Markdown file and the PDF
ingestion figure is skipped. The indexed chunks are then copied (as more documents) up to the
chunk count, in SQL, since ingesting a hundred manuals would take most of an hour.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import time
import urllib.parse
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from studymate_jupyter.library.query import build_match_query
from studymate_jupyter.library.retrieval import Bm25Retriever, Hit
from studymate_jupyter.store.db import Database

from . import loadgen
from .loadgen import Setup, Target
from .report import Row, latency_rows
from .servers import OWNER, REPO, StudyMateServer
from .sizes import Sizes
from .stats import percentile

SECTION = "6."
CACHE = REPO / "bench" / ".cache"
QUESTIONS = REPO / "bench" / "eval" / "questions.json"
FALLBACK_QUESTIONS = [
    "how do I plot a function with a logarithmic axis",
    "what does the matrix inverse do",
    "how to set the title of a plot",
    "how are strings compared",
    "solve a linear system of equations",
]
WORDS = [
    "matrix",
    "vector",
    "plot",
    "axis",
    "function",
    "integral",
    "derivative",
    "series",
    "solve",
    "equation",
    "linear",
    "string",
    "compare",
    "title",
    "label",
    "legend",
    "grid",
    "figure",
    "sample",
    "random",
    "mean",
    "variance",
    "loop",
]


def questions() -> list[str]:
    if QUESTIONS.exists():
        found = [q["question"] for q in json.loads(QUESTIONS.read_text())["questions"]]
        return [q for q in found if isinstance(q, str)] or FALLBACK_QUESTIONS
    return FALLBACK_QUESTIONS


def generated_markdown(sections: int) -> str:
    parts = []
    for n in range(sections):
        words = " ".join(WORDS[(n * 7 + i) % len(WORDS)] for i in range(400))
        parts.append(f"# Section {n}: {WORDS[n % len(WORDS)]}\n\n{words}\n")
    return "\n".join(parts)


def ingest(server: StudyMateServer, name: str, timeout: float = 900) -> tuple[float, int]:
    """Add a file through REST and wait until it is ready: (seconds, pages)."""
    started = time.perf_counter()
    document = server.post("studymate/api/documents", {"path": name})
    deadline = time.monotonic() + timeout
    while document["status"] not in ("ready", "failed"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} was not indexed within {timeout} s")
        time.sleep(0.1)
        document = server.get(f"studymate/api/documents/{document['id']}")
    if document["status"] != "ready":
        raise RuntimeError(f"{name} failed to index: {document.get('error')}")
    return time.perf_counter() - started, int(document["pages"])


def pypdf_pages_per_second(path: Path) -> float:
    """The baseline: pypdf's own text extraction of the same file, in this process."""
    from pypdf import PdfReader

    started = time.perf_counter()
    reader = PdfReader(path)
    for page in reader.pages:
        page.extract_text()
    return len(reader.pages) / (time.perf_counter() - started)


def replicate(db_path: Path, target_chunks: int) -> int:
    """Copy the indexed documents (rows, chunks, FTS rows) until there are enough chunks."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        originals = [r[0] for r in conn.execute("SELECT id FROM documents")]
        count = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        copy = 0
        conn.execute("BEGIN")
        while count < target_chunks:
            for source in originals:
                copy += 1
                new = f"copy{copy}-{source}"[:64]
                conn.execute(
                    "INSERT INTO documents SELECT ?, user_id, 'copy' || ? || '/' || path, "
                    "filename, kind, status, error, progress, pages, chunks, size, sha256, "
                    "created_at, updated_at, removed_at FROM documents WHERE id = ?",
                    (new, copy, source),
                )
                columns = (
                    "user_id, sha256, seq, page_start, page_end, char_start, char_end, anchor, "
                    "heading, text, retired"
                )
                conn.execute(
                    f"INSERT INTO chunks (id, document_id, {columns}) SELECT "
                    f"? || id, ?, {columns} FROM chunks WHERE document_id = ?",
                    (f"c{copy}-", new, source),
                )
                # The copies carry no book-index keywords, like chunks indexed before them.
                conn.execute(
                    "INSERT INTO chunks_fts (rowid, heading, body) SELECT rowid, heading, text "
                    "FROM chunks WHERE document_id = ?",
                    (new,),
                )
            count = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        conn.execute("COMMIT")
        return int(count)
    finally:
        conn.close()


# The baseline query: bm25 over the FTS5 table alone, k rows, no joins, no reranking.
RAW_SEARCH = (
    "SELECT rowid, bm25(chunks_fts) AS score FROM chunks_fts "
    "WHERE chunks_fts MATCH ? ORDER BY score LIMIT 5"
)


def time_raw_search(db_path: Path, qs: list[str], samples: int) -> list[float]:
    conn = sqlite3.connect(db_path)
    try:
        out = []
        for n in range(samples):
            started = time.perf_counter()
            expression = build_match_query(qs[n % len(qs)])
            if expression is not None:
                conn.execute(RAW_SEARCH, (expression,)).fetchall()
            out.append(time.perf_counter() - started)
        return out
    finally:
        conn.close()


async def _time_service_search(db: Database, qs: list[str], samples: int) -> list[float]:
    retriever = Bm25Retriever()
    out = []
    for n in range(samples):
        question = qs[n % len(qs)]

        def search(session: Session, question: str = question) -> list[Hit]:
            return retriever.search(session, OWNER, question, 5, None)

        started = time.perf_counter()
        await db.read(search)
        out.append(time.perf_counter() - started)
    return out


def time_service_search(db_path: Path, qs: list[str], samples: int) -> list[float]:
    """`Database.read` + the default retriever's search, as the server calls them."""
    db = Database(f"sqlite:///{db_path}")
    try:
        return asyncio.run(_time_service_search(db, qs, samples))
    finally:
        db.close()


def time_rest_search(server: StudyMateServer, qs: list[str], samples: int) -> list[float]:
    out = []
    for n in range(samples):
        query = urllib.parse.urlencode({"q": qs[n % len(qs)], "k": 5})
        started = time.perf_counter()
        server.get(f"studymate/api/search?{query}")
        out.append(time.perf_counter() - started)
    return out


def run(workdir: Path, sizes: Sizes) -> tuple[list[Row], list[tuple[str, str]]]:
    """Rows, and the figures not measured with the reason."""
    missing: list[tuple[str, str]] = []
    rows: list[Row] = []
    qs = questions()
    server = StudyMateServer(workdir / "library-server")
    pdf = CACHE / sizes.ingest_pdf if sizes.ingest_pdf else None
    extra: dict[str, Any] = {}
    with server:
        if pdf is not None and pdf.exists():
            shutil.copy(pdf, server.root_dir / pdf.name)
            seconds, pages = ingest(server, pdf.name)
            baseline = pypdf_pages_per_second(pdf)
            rows.append(
                Row.paired(
                    SECTION,
                    f"ingestion of {pdf.name} ({pages:,} pages), parse + chunk + index",
                    "pages/s",
                    [pages / seconds],
                    [baseline],
                    "pypdf text extraction alone",
                    note="measured once",
                )
            )
        else:
            why = "--quick" if not sizes.ingest_pdf else f"{pdf} missing (bench/eval/fetch.py)"
            missing.append((f"{SECTION} ingestion pages/s of a real PDF", f"not measured: {why}"))
            (server.root_dir / "generated.md").write_text(generated_markdown(60))
            ingest(server, "generated.md")
        # Beside the running server, as another process sharing the file would.
        chunks = replicate(server.db_path, sizes.search_chunks)
        extra["chunks"] = chunks
        raw: dict[int, list[float]] = {50: [], 99: []}
        side: dict[int, list[float]] = {50: [], 99: []}
        rest: dict[int, list[float]] = {50: [], 99: []}
        n = sizes.search_samples
        time_raw_search(server.db_path, qs, 10)
        time_rest_search(server, qs, 10)
        for _ in range(sizes.reps):
            r = time_raw_search(server.db_path, qs, n)
            s = time_service_search(server.db_path, qs, n)
            w = time_rest_search(server, qs, n)
            for q in (50, 99):
                raw[q].append(percentile(r, q) * 1000)
                side[q].append(percentile(s, q) * 1000)
                rest[q].append(percentile(w, q) * 1000)
        target = Target(server.ws_plain_url, server.headers)
        with loadgen.pool(target, [Setup((None,))]) as p:
            (first,) = p.run("first_piece", questions=qs[: sizes.answer_samples])
    rows += latency_rows(
        SECTION,
        f"search k=5 at {chunks:,} chunks",
        "raw FTS5 bm25 query",
        raw,
        side,
        rest,
        end_to_end_label="REST end to end",
        extra=extra,
    )
    first_ms = [t * 1000 for t in first]
    rows.append(
        Row.paired(
            SECTION,
            f"time to first streamed answer piece at {chunks:,} chunks, p50 of "
            f"{len(first_ms)} questions",
            "ms",
            [percentile(first_ms, 50)],
            [rest[50][len(rest[50]) // 2]],
            "one REST search",
            extra=extra,
        )
    )
    return rows, missing
