"""hit@1 / hit@5 of each ranking on bench/eval/questions.json, through the server's code path.

Usage (from the repository root):

    python -m bench.eval [--only RANKING] [--backend sqlite|postgresql] [--signals A+B]
                         [--ablations] [--verbose] [--no-cache]

Rankings:
  baseline  fixed 150-word chunks, one column, unicode61 (no stemming), plain bm25: the
            baseline to beat (bench/eval/harness.py: PlainBm25Retriever).
  bm25      the default before issue 12, still selectable (c.StudyMate.retriever = "bm25"):
            library.chunking + Bm25Retriever (FTS5, porter, coverage rerank).
  hybrid    the default: HybridRetriever (library/hybrid.py), BM25 + MiniLM + wordllama
            fused per page by reciprocal rank.
  With --ablations also: the hybrid with one signal or two (e.g. hybrid:bm25+minilm).

Backends: every ranking but the baseline (FTS5 only) runs on SQLite and on PostgreSQL (a
throwaway cluster of its own, studymate_jupyter/postgres_cluster.py; skipped with one line where
PostgreSQL is not installed), printed side by side with PostgreSQL's difference.

Tuning split: settings were tuned looking only at the odd-numbered questions (q01, q03, …);
the even-numbered ones are held out. Both halves and the whole set are printed.
Writes bench/results/eval.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `python bench/eval/run.py` from a checkout
    sys.path.insert(0, str(ROOT))

from bench.eval.fetch import CACHE, QUESTIONS, fetch  # noqa: E402
from bench.eval.harness import (  # noqa: E402
    CachedEncoder,
    Outcome,
    PlainBm25Retriever,
    Question,
    evaluate,
    fixed_chunks,
    is_answer,
    load_questions,
    parse_manuals,
)
from studymate_jupyter.library.chunking import chunk_document  # noqa: E402
from studymate_jupyter.library.retrieval import Bm25Retriever, Retriever  # noqa: E402
from studymate_jupyter.passages import Hit  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "eval.json"
TARGETS = {"hybrid": (0.65, 0.90)}
BACKENDS = ("sqlite", "postgresql")
# The bar: PostgreSQL within this of SQLite at hit@1 and hit@5.
BACKEND_TOLERANCE = 0.03
ABLATIONS = ("bm25", "minilm", "wordllama", "bm25+minilm", "bm25+wordllama", "minilm+wordllama")


def _printer(verbose: bool):  # type: ignore[no-untyped-def]
    def show(question: Question, hits: list[Hit]) -> None:
        # Only tuning questions are ever shown, so the held-out half stays unseen.
        if not verbose or question.number % 2 == 0:
            return
        mark = next((i for i, h in enumerate(hits, 1) if is_answer(h, question)), "-")
        print(f"  {question.id} rank={mark} want {question.file}:{list(question.pages)}")
        for hit in hits:
            print(f"      {hit.filename}:{hit.page_start}-{hit.page_end} {hit.heading[:70]!r}")

    return show


def _hybrid(signals: str, folder: Path) -> tuple[Retriever, list[CachedEncoder]]:
    """The hybrid retriever on the given signals, its encoders' vectors cached in `folder`."""
    from studymate_jupyter.library.hybrid import HybridRetriever

    chosen = signals.split("+")
    plain = HybridRetriever(signals=chosen)
    if "minilm" in chosen and "minilm" not in plain.info()["signals"]:
        raise SystemExit(f"MiniLM is missing: {plain.info()['notice']}")
    encoders = [CachedEncoder(encoder, folder) for encoder in plain.encoders()]
    return HybridRetriever(signals=chosen, encoders=encoders), encoders


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", choices=["baseline", "bm25", "hybrid"], action="append")
    parser.add_argument(
        "--ablations", action="store_true", help="also the hybrid on one or two signals"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="print the top 5 of each tuning question"
    )
    parser.add_argument("--no-cache", action="store_true", help="parse and embed from scratch")
    parser.add_argument("--backend", choices=BACKENDS, action="append", help="(default: both)")
    parser.add_argument(
        "--signals",
        default="bm25+minilm+wordllama",
        help="the hybrid's signals (MiniLM's vectors take about 40 minutes uncached)",
    )
    args = parser.parse_args()
    cluster = _cluster() if "postgresql" in (args.backend or BACKENDS) else None
    try:
        _run(args, cluster)
    finally:
        if cluster is not None:
            cluster.remove()


def _cluster() -> Any:
    """A throwaway PostgreSQL cluster (the tests' own), or None with a line saying why."""
    from studymate_jupyter.postgres_cluster import start_cluster

    try:
        return start_cluster()
    except LookupError as exc:
        print(f"PostgreSQL skipped: {exc}")
        return None


def _run(args: argparse.Namespace, cluster: Any) -> None:
    backends = [b for b in (args.backend or BACKENDS) if b == "sqlite" or cluster is not None]

    def on_each(label: str, retriever: Callable[[], Retriever]) -> list[Outcome]:
        """The ranking on every backend, each with a fresh retriever and database."""
        found = []
        for backend in backends:
            url = None
            if backend == "postgresql":
                url = cluster.create_database().render_as_string(hide_password=False)
            found.append(
                evaluate(
                    f"{label} [{backend}]",
                    retriever(),
                    chunk_document,
                    documents,
                    manuals,
                    questions,
                    on_hits=show,
                    db_url=url,
                )
            )
        return found

    questions = load_questions(QUESTIONS)
    manuals = fetch()
    started = time.perf_counter()
    documents = parse_manuals(manuals, None if args.no_cache else CACHE)
    pages = sum(d.pages for d in documents.values())
    print(
        f"{pages} pages parsed in {time.perf_counter() - started:.1f} s; {len(questions)} questions"
    )

    wanted = set(args.only or ["baseline", "bm25", "hybrid"])
    vectors = CACHE / "vectors" if not args.no_cache else Path(tempfile.mkdtemp(prefix="vectors-"))
    show = _printer(args.verbose)
    outcomes: list[Outcome] = []
    if "baseline" in wanted:
        outcomes.append(
            evaluate(
                "baseline",
                PlainBm25Retriever(),
                fixed_chunks,
                documents,
                manuals,
                questions,
                on_hits=show,
            )
        )
    if "bm25" in wanted:
        outcomes.extend(on_each("bm25", Bm25Retriever))
    hybrids = (["hybrid"] if "hybrid" in wanted else []) + (
        [f"hybrid:{signals}" for signals in ABLATIONS] if args.ablations else []
    )
    embedded: dict[str, object] = {}
    for label in hybrids:
        signals = label.partition(":")[2] or args.signals
        if label == "hybrid" and signals != "bm25+minilm+wordllama":
            label = f"hybrid:{signals}"
        made: list[CachedEncoder] = []

        def hybrid(signals: str = signals, made: list[CachedEncoder] = made) -> Retriever:
            retriever, encoders = _hybrid(signals, vectors)
            made.extend(encoders)
            return retriever

        outcomes.extend(on_each(label, hybrid))
        for encoder in made:
            if encoder.computed:
                embedded[encoder.name] = {
                    "chunks": encoder.computed,
                    "seconds": round(encoder.seconds, 1),
                    "chunks_per_second": round(encoder.computed / max(encoder.seconds, 1e-9), 1),
                }
    if embedded:
        print(f"vectors computed (cached ones not counted): {embedded}")

    tuning = [q for q in questions if q.number % 2 == 1]
    held_out = [q for q in questions if q.number % 2 == 0]
    print()
    print(
        f"{'ranking':<22} {'chunks':>6}  {'hit@1':>5} {'hit@5':>5}  "
        f"{'tune@1':>6} {'tune@5':>6}  {'held@1':>6} {'held@5':>6}  "
        f"{'MRR tune':>8} {'held':>5}  {'prep s':>7} {'ms/q':>6}"
    )
    report: dict[str, object] = {
        "questions": len(questions),
        "tuning_split": "odd-numbered questions tuned on, even-numbered held out",
        "machine": platform.platform(),
        "rankings": {},
    }
    if embedded:
        report["embedding"] = embedded
    for outcome in outcomes:
        row = {
            "chunks": outcome.chunks,
            "hit@1": round(outcome.hit_at(1, questions), 3),
            "hit@5": round(outcome.hit_at(5, questions), 3),
            "tuning hit@1": round(outcome.hit_at(1, tuning), 3),
            "tuning hit@5": round(outcome.hit_at(5, tuning), 3),
            "held-out hit@1": round(outcome.hit_at(1, held_out), 3),
            "held-out hit@5": round(outcome.hit_at(5, held_out), 3),
            "tuning MRR@5": round(outcome.mrr(tuning), 3),
            "held-out MRR@5": round(outcome.mrr(held_out), 3),
            "prepare_seconds": round(outcome.prepare_seconds, 1),
            "index_seconds": round(outcome.index_seconds, 2),
            "search_ms_median": outcome.search_ms_median,
            "ranks": outcome.ranks,
        }
        report["rankings"][outcome.label] = row  # type: ignore[index]
        print(
            f"{outcome.label:<22} {outcome.chunks:>6}  {row['hit@1']:>5.2f} {row['hit@5']:>5.2f}  "
            f"{row['tuning hit@1']:>6.2f} {row['tuning hit@5']:>6.2f}  "
            f"{row['held-out hit@1']:>6.2f} {row['held-out hit@5']:>6.2f}  "
            f"{row['tuning MRR@5']:>8.3f} {row['held-out MRR@5']:>5.3f}  "
            f"{outcome.prepare_seconds:>7.1f} {outcome.search_ms_median:>6.2f}"
        )
    for label, (one, five) in TARGETS.items():
        print(f"target {label}: hit@1 >= {one:.2f}, hit@5 >= {five:.2f}")
    by_label = {o.label: o for o in outcomes}
    for outcome in outcomes:
        label, _, backend = outcome.label.rpartition(" [")
        on_sqlite = by_label.get(f"{label} [sqlite]")
        if backend != "postgresql]" or on_sqlite is None:
            continue
        d1 = outcome.hit_at(1, questions) - on_sqlite.hit_at(1, questions)
        d5 = outcome.hit_at(5, questions) - on_sqlite.hit_at(5, questions)
        within = max(abs(d1), abs(d5)) <= BACKEND_TOLERANCE + 1e-9
        print(
            f"{label}: PostgreSQL - SQLite hit@1 {d1:+.3f}, hit@5 {d5:+.3f} "
            f"({'within' if within else 'NOT within'} {BACKEND_TOLERANCE})"
        )
    misses = {o.label: [qid for qid, rank in o.ranks.items() if rank is None] for o in outcomes}
    print("misses (no answer in top 5):", json.dumps(misses))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
