"""Figure 6: retrieval. Ingestion pages/s and peak memory of a real PDF, search latency at
many chunks, and the time to the first streamed answer piece, with the default offline
(extractive) assistant.

The ingestion figure uses R's reference index (2,415 pages, `bench/eval/fetch.py --large`),
ingested by a server of its own; without it, the GNU Octave manual (1,158 pages) instead. The
search library is the Octave manual from `bench/eval/fetch.py` (bench/.cache/, not committed);
without it, or in `--quick`, the library is made from a generated Markdown file, and `--quick`
skips the PDF ingestion figure. The indexed chunks are then copied (as more documents) up to
the chunk count, in SQL, since ingesting a hundred manuals would take most of an hour.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from studymate_jupyter.library.query import build_match_query
from studymate_jupyter.library.retrieval import Bm25Retriever
from studymate_jupyter.passages import Hit
from studymate_jupyter.store.db import Database

from . import loadgen
from .eval.fetch import LARGE
from .loadgen import Setup, Target
from .report import Row, latency_rows
from .servers import OWNER, REPO, StudyMateServer
from .sizes import Sizes
from .stats import percentile

SECTION = "6."
CACHE = REPO / "bench" / ".cache"
QUESTIONS = REPO / "bench" / "eval" / "questions.json"
LARGE_PDF = CACHE / LARGE["name"]
MIB = 2**20
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


# The baseline, in a process of its own like the server's parser worker: pypdf's text
# extraction of the same file, timed from opening the file; its peak RSS is the kernel's
# high-water mark for that process (ru_maxrss, KiB on Linux), interpreter and imports included.
PYPDF_ALONE = """
import json, resource, sys, time
from pypdf import PdfReader
started = time.perf_counter()
reader = PdfReader(sys.argv[1])
for page in reader.pages:
    page.extract_text()
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"pages": len(reader.pages), "seconds": seconds, "peak": peak}))
"""


def pypdf_alone(path: Path) -> tuple[float, int]:
    """The baseline: (pages/s, peak RSS in bytes) of pypdf's extraction alone, same file."""
    out = subprocess.run(
        [sys.executable, "-c", PYPDF_ALONE, str(path)], capture_output=True, text=True, check=True
    )
    found = json.loads(out.stdout)
    return found["pages"] / found["seconds"], int(found["peak"])


def _status_bytes(pid: int, *fields: str) -> list[int] | None:
    """Fields of /proc/<pid>/status given in kB (VmRSS, VmHWM) as bytes; None once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    found = {
        k: int(v.split()[0]) * 1024
        for k, v in (line.split(":", 1) for line in lines)
        if k in fields
    }
    return [found.get(f, 0) for f in fields]


def process_tree(root: int) -> list[int]:
    """`root` and every process descended from it, from each process's parent in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # ended meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


class PeakMemory:
    """The server's memory while it ingests, watched from outside (Linux /proc).

    The server parses in a child process (library/worker.py: a forkserver, which forks one
    parser per file) and chunks and indexes in its own, so no single process's own figure
    covers it: `resource.getrusage(RUSAGE_CHILDREN)` in the server would not see the parser,
    whose parent (and reaper) is the forkserver, and the bench cannot ask inside either. So a
    thread here reads VmRSS and VmHWM of the server and of every process under it every 20 ms
    (the tree itself is listed again every 200 ms). `tree_peak` is the largest sum of RSS
    seen: a sample can miss a peak shorter than 20 ms, and pages shared between the
    forkserver and its children count once per process, so it errs both ways by a little.
    `peaks` holds each process's VmHWM, the kernel's own exact high-water mark, as last read
    (for the parser, up to 20 ms before it ended).
    """

    INTERVAL = 0.02
    RESCAN = 10

    def __init__(self, root: int) -> None:
        self.root = root
        self.tree_peak = 0
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)

    def _run(self) -> None:
        pids: list[int] = []
        tick = 0
        while True:
            if tick % self.RESCAN == 0:
                pids = process_tree(self.root)
            tick += 1
            total = 0
            for pid in pids:
                found = _status_bytes(pid, "VmRSS", "VmHWM")
                if found is not None:
                    total += found[0]
                    self.peaks[pid] = max(self.peaks.get(pid, 0), found[1])
            self.tree_peak = max(self.tree_peak, total)
            if self._stop.wait(self.INTERVAL):
                return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def ingestion_rows(server: StudyMateServer, pdf: Path, note: str = "") -> list[Row]:
    """Ingest `pdf` in `server` (just started, nothing indexed): pages/s and peak memory."""
    shutil.copy(pdf, server.root_dir / pdf.name)
    # Startup helpers (an extension runs `npm prefix -g`, about 50 MB) are not ingestion: wait
    # until the fresh server has no child process left before watching its memory.
    deadline = time.monotonic() + 15
    while process_tree(server.pid) != [server.pid] and time.monotonic() < deadline:
        time.sleep(0.1)
    idle = sum((_status_bytes(pid, "VmRSS") or [0])[0] for pid in process_tree(server.pid))
    with PeakMemory(server.pid) as memory:
        seconds, pages = ingest(server, pdf.name)
    # The server lives on, so its VmHWM read now is exact. Under it, the parser is by far the
    # largest (the forkserver and multiprocessing's resource tracker stay small).
    server_peak = (_status_bytes(server.pid, "VmHWM") or [memory.peaks.get(server.pid, 0)])[0]
    child_peak = max((v for p, v in memory.peaks.items() if p != server.pid), default=0)
    baseline_rate, baseline_peak = pypdf_alone(pdf)
    what = f"{pdf.name} ({pages:,} pages)"
    notes = "; ".join(filter(None, ["measured once", note]))
    extra = {
        "file": pdf.name,
        "pages": pages,
        "seconds": round(seconds, 2),
        "server_rss_before_mib": round(idle / MIB, 1),
        "server_peak_mib": round(server_peak / MIB, 1),
        "parser_peak_mib": round(child_peak / MIB, 1),
    }
    return [
        Row.paired(
            SECTION,
            f"ingestion of {what}, parse + chunk + index",
            "pages/s",
            [pages / seconds],
            [baseline_rate],
            "pypdf text extraction alone",
            note=notes,
            extra=extra,
        ),
        Row.paired(
            SECTION,
            f"peak memory ingesting {what}: server + parser, RSS summed",
            "MiB",
            [memory.tree_peak / MIB],
            [baseline_peak / MIB],
            "pypdf alone, peak RSS of its process",
            note=f"{notes}; sampled every 20 ms",
            extra=extra,
        ),
    ]


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
                kept = (
                    "filename, kind, status, error, progress, pages, chunks, size, sha256, "
                    "created_at, updated_at, removed_at, vectors, vectors_progress"
                )
                conn.execute(
                    f"INSERT INTO documents (id, user_id, path, {kept}) SELECT ?, user_id, "
                    f"'copy' || ? || '/' || path, {kept} FROM documents WHERE id = ?",
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


def time_raw_search(
    db_path: Path, qs: list[str], samples: int, query: str = RAW_SEARCH
) -> list[float]:
    """Seconds of each raw FTS5 `query` (one MATCH parameter), cycling through `qs`."""
    conn = sqlite3.connect(db_path)
    try:
        out = []
        for n in range(samples):
            started = time.perf_counter()
            expression = build_match_query(qs[n % len(qs)])
            if expression is not None:
                conn.execute(query, (expression,)).fetchall()
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
    # The search library is always the corpus (octave.pdf in the full run); the ingestion
    # figure is the large PDF when fetched, ingested by a fresh server of its own, else that.
    corpus = CACHE / sizes.ingest_pdf if sizes.ingest_pdf else None
    measured = LARGE_PDF if corpus is not None and LARGE_PDF.exists() else corpus
    extra: dict[str, Any] = {}
    if measured == LARGE_PDF:
        with StudyMateServer(workdir / "ingest-server") as ingest_server:
            rows += ingestion_rows(ingest_server, LARGE_PDF)
    with server:
        if corpus is not None and corpus.exists():
            if measured == corpus:
                why = f"{LARGE_PDF.name} missing (bench/eval/fetch.py --large)"
                rows += ingestion_rows(server, corpus, note=why)
            else:
                shutil.copy(corpus, server.root_dir / corpus.name)
                ingest(server, corpus.name)
        else:
            if measured != LARGE_PDF:
                why = "--quick" if corpus is None else f"{corpus} missing (bench/eval/fetch.py)"
                missing.append((f"{SECTION} ingestion of a real PDF", f"not measured: {why}"))
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
