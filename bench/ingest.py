"""Figure 8: ingestion end to end with the default (hybrid) retriever, and embedding speed.

- Ingestion: a real PDF (R's 2,415-page reference index, `bench/eval/fetch.py --large`) added
  to the library of a real `LibraryService`, built by `StudyMate.build_services` as the server
  builds it, in a process of its own (`python -m bench.ingest FILE WORKDIR`): the time until
  it is searchable by its words (`library.idle`: parsed, chunked, in FTS5 and the sparse index)
  and until its vectors are all stored (`library.vectors.idle`), and the peak memory of that
  process and its parser, summed (bench/retrieval.py's PeakMemory), beside pypdf alone
  extracting the same file in a process of its own. Without the PDF, or in `--quick`, a
  generated Markdown file stands in (and the row says so).
- Embedding throughput: MiniLmEncoder and WordLlamaEncoder on real 80-word chunks in batches
  of the vector step's size (library/vectors.py BATCH), beside pypdf's text extraction per
  page in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from studymate_jupyter.library.chunking import chunk_document
from studymate_jupyter.library.encoders import (
    Encoder,
    MiniLmEncoder,
    WordLlamaEncoder,
    minilm_folder,
    passage_text,
)
from studymate_jupyter.library.parsers import parse_file
from studymate_jupyter.library.vectors import BATCH

from .report import Row
from .retrieval import CACHE, LARGE_PDF, MIB, PeakMemory, generated_markdown, pypdf_alone
from .servers import REPO
from .sizes import Sizes
from .stats import Spread

SECTION = "8."
OWNER = "bench"
# Real text for the embedding figure: the smaller eval manual when fetched.
EMBED_PDF = CACHE / "gnuplot.pdf"


def log(text: str) -> None:
    print(f"[ingest {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ---- ingestion, in a process of its own ---------------------------------------------------


async def _ingest(path: Path, workdir: Path, report_every: float) -> dict[str, Any]:
    # Imported here: the child needs the server side, the parent only the figures.
    from studymate_jupyter.app import StudyMate

    root = workdir / "root"
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, root / path.name)
    app = StudyMate(db_url=f"sqlite:///{workdir / 'studymate.db'}", owner_id=OWNER)
    assert app.retriever == "hybrid", "the default retriever is what is measured"
    services = app.build_services(root)
    library = services.library
    try:
        started = time.perf_counter()
        document = await library.add(OWNER, path.name)
        await asyncio.sleep(0)  # the ingestion job clears `idle` when it is queued
        await library.idle.wait()
        bm25_ready = time.perf_counter() - started
        document = await library.get(OWNER, document["id"])
        log(
            f"BM25 ready after {bm25_ready:.1f} s: {document['chunks']} chunks, "
            f"{document['pages']} pages; computing vectors"
        )
        while not library.vectors.idle.is_set():
            try:
                await asyncio.wait_for(library.vectors.idle.wait(), report_every)
            except TimeoutError:
                progress = (await library.get(OWNER, document["id"]))["vectors_progress"]
                log(f"vectors {progress:.1%} after {time.perf_counter() - started:.0f} s")
        vectors_done = time.perf_counter() - started
        document = await library.get(OWNER, document["id"])
        counts: dict[str, int] = services.db.read_sync(
            lambda s: {
                str(model): int(n)
                for model, n in s.execute(
                    text("SELECT model, count(*) FROM chunk_embeddings GROUP BY model")
                )
            }
        )
    finally:
        await services.close()
    return {
        "file": path.name,
        "status": document["status"],
        "vectors": document["vectors"],
        "pages": document["pages"],
        "chunks": document["chunks"],
        "vectors_stored": counts,
        "bm25_ready_seconds": bm25_ready,
        "vectors_done_seconds": vectors_done,
        # This process's own high-water mark (KiB on Linux); the parser is another process.
        "process_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def ingest_in_process(path: Path, workdir: Path, log_file: Path | None = None) -> dict[str, Any]:
    """Run this module's main in a child process, watching its memory: its JSON + tree_peak."""
    workdir.mkdir(parents=True, exist_ok=True)
    with open(log_file or os.devnull, "w") as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.ingest", str(path), str(workdir)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        with PeakMemory(child.pid) as memory:
            out, _ = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"ingesting {path.name} failed (exit {child.returncode})")
    found: dict[str, Any] = json.loads(out)
    found["tree_peak"] = memory.tree_peak
    return found


def ingestion_rows(workdir: Path, sizes: Sizes) -> tuple[list[Row], list[tuple[str, str]]]:
    missing: list[tuple[str, str]] = []
    if sizes.ingest_hybrid and LARGE_PDF.exists():
        path, note = LARGE_PDF, "measured once"
    else:
        why = "--quick" if not sizes.ingest_hybrid else f"{LARGE_PDF.name} missing (fetch --large)"
        missing.append((f"{SECTION} ingestion of {LARGE_PDF.name}", f"not measured: {why}"))
        path = workdir / "generated.md"
        path.write_text(generated_markdown(sizes.ingest_sections))
        note = f"generated Markdown stand-in ({why})"
    found = ingest_in_process(path, workdir / "ingest")
    extra = {k: v for k, v in found.items() if k != "status"}
    what = f"{found['file']} ({found['pages']:,} pages, {found['chunks']:,} chunks)"
    rows: list[Row] = []
    if path.suffix == ".pdf":
        rate, peak = pypdf_alone(path)
        base_seconds, base_label = found["pages"] / rate, "pypdf text extraction alone"
        base_peak = [peak / MIB]
    else:
        # No parser library to compare with: the time to read the file stands in.
        read = time.perf_counter()
        path.read_text()
        base_seconds, base_label = time.perf_counter() - read, "reading the file"
        base_peak = [found["process_peak"] / MIB]
    for label, key in (
        ("until searchable (BM25 ready)", "bm25_ready_seconds"),
        ("until every vector is stored (MiniLM + wordllama)", "vectors_done_seconds"),
    ):
        rows.append(
            Row.paired(
                SECTION,
                f"ingestion of {what}, hybrid, {label}",
                "s",
                [found[key]],
                [base_seconds],
                base_label,
                note=note,
                extra=extra,
            )
        )
    rows.append(
        Row.paired(
            SECTION,
            f"peak memory ingesting {what}, hybrid: process + parser, RSS summed",
            "MiB",
            [found["tree_peak"] / MIB],
            base_peak,
            "pypdf alone, peak RSS of its process" if path.suffix == ".pdf" else "process peak",
            note=f"{note}; sampled every 20 ms",
            extra=extra,
        )
    )
    return rows, missing


# ---- embedding throughput -----------------------------------------------------------------


def sample_chunks(n: int) -> tuple[list[str], float, str]:
    """n real chunks (as the vector step encodes them), pypdf's seconds per page, the source."""
    if EMBED_PDF.exists():
        started = time.perf_counter()
        parsed = parse_file(EMBED_PDF, max_bytes=2**30)
        per_page = (time.perf_counter() - started) / max(parsed.pages, 1)
        source = f"{EMBED_PDF.name} chunks"
    else:
        path = CACHE.parent / ".embed-sample.md"
        path.write_text(generated_markdown(40))
        parsed = parse_file(path, max_bytes=2**30)
        path.unlink()
        per_page, source = 0.0, "generated Markdown chunks"
    chunks = chunk_document(parsed)
    texts = [passage_text(c.heading, c.text) for c in chunks]
    # Spread over the whole document, not its first pages (a table of contents).
    step = max(1, len(texts) // n)
    return texts[::step][:n], per_page, source


def pypdf_seconds_per_page(pages: int) -> float:
    """The baseline: pypdf's extract_text per page over the first `pages` pages."""
    from pypdf import PdfReader

    reader = PdfReader(EMBED_PDF)
    chosen = reader.pages[: min(pages, len(reader.pages))]
    started = time.perf_counter()
    for page in chosen:
        page.extract_text()
    return (time.perf_counter() - started) / max(len(chosen), 1)


def throughput(encoder: Encoder, texts: list[str], batch: int) -> float:
    """Chunks per second, encoding `texts` in batches of `batch` (after one warm-up batch)."""
    encoder.encode(texts[:batch])  # loads the weights
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        encoder.encode(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started)


def embedding_rows(sizes: Sizes) -> tuple[list[Row], list[tuple[str, str]]]:
    missing: list[tuple[str, str]] = []
    rows: list[Row] = []
    texts, _, source = sample_chunks(max(sizes.embed_chunks, sizes.embed_chunks_fast))
    words = sum(len(t.split()) for t in texts) / max(len(texts), 1)
    encoders: list[tuple[Encoder, int]] = [(WordLlamaEncoder(), sizes.embed_chunks_fast)]
    folder = minilm_folder()
    if folder is not None:
        encoders.append((MiniLmEncoder(folder), sizes.embed_chunks))
    else:
        missing.append((f"{SECTION} MiniLM embedding throughput", "not measured: no weights"))
    for encoder, n in encoders:
        ours: list[float] = []
        base: list[float] = []
        for _ in range(sizes.embed_reps):
            # Baseline, then ours, back to back, as every paired figure here.
            if EMBED_PDF.exists():
                base.append(1.0 / pypdf_seconds_per_page(sizes.embed_pages))
            ours.append(throughput(encoder, texts[:n], BATCH))
        label = (
            f"embedding throughput, {encoder.name}, {n} {source} "
            f"(~{words:.0f} words, with headings), batches of {BATCH}"
        )
        extra = {"chunks": n, "batch": BATCH, "words_per_chunk": round(words, 1)}
        if base:
            baseline = "pypdf extract_text, pages/s (not chunks)"
            rows.append(Row.paired(SECTION, label, "chunks/s", ours, base, baseline, extra=extra))
        else:
            rows.append(Row(SECTION, label, "chunks/s", Spread.of(ours), extra=extra))
    return rows, missing


def run(workdir: Path, sizes: Sizes, *, ingestion: bool = True) -> tuple[list[Row], list[Any]]:
    rows, missing = embedding_rows(sizes)
    if ingestion:
        found, not_measured = ingestion_rows(workdir, sizes)
        rows += found
        missing += not_measured
    return rows, missing


def main(argv: list[str]) -> int:
    """`python -m bench.ingest FILE WORKDIR`: ingest FILE, print the timings as JSON."""
    path, workdir = Path(argv[0]).resolve(), Path(argv[1])
    report_every = float(argv[2]) if len(argv) > 2 else 60.0
    print(json.dumps(asyncio.run(_ingest(path, workdir, report_every))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
