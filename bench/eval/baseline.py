"""hit@1 / hit@5 on bench/eval/questions.json: plain BM25 baseline beside our default.

Usage: python bench/eval/baseline.py [--sweep]

baseline: fixed 150-word chunks over each document's text, no overlap, one FTS5 column with
the default tokenizer, bm25.
default:  studymate_jupyter.library chunking (page-aware overlapping windows with the PDF
outline as a heading column) and the FTS5 layout in studymate_jupyter.library.fts.
Both use the same query builder (quoted terms joined by OR, stop words dropped).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # run from a checkout without installing

from fetch import QUESTIONS, fetch  # noqa: E402

from studymate_jupyter.library import fts  # noqa: E402
from studymate_jupyter.library.chunking import (  # noqa: E402
    CHUNK_WORDS,
    MAX_UNITS_PER_CHUNK,
    MIN_WORDS,
    OVERLAP_WORDS,
    chunk_document,
)
from studymate_jupyter.library.parsers import ParsedDocument, parse_file  # noqa: E402
from studymate_jupyter.library.query import build_match_query  # noqa: E402

K = 5


@dataclass(frozen=True)
class Passage:
    """What a search result cites: a file and a page range."""

    file: str
    page_start: int
    page_end: int
    heading: str
    text: str


def fixed_chunks(name: str, document: ParsedDocument, size: int = 150) -> list[Passage]:
    """The baseline: consecutive 150-word chunks over the document, blind to pages."""
    words = [(word, unit.page) for unit in document.units for word in unit.text.split()]
    return [
        Passage(
            name,
            words[start][1],
            words[min(start + size, len(words)) - 1][1],
            "",
            " ".join(word for word, _ in words[start : start + size]),
        )
        for start in range(0, len(words), size)
    ]


def our_chunks(name: str, document: ParsedDocument, **options: int) -> list[Passage]:
    """Our chunker with the given options (defaults when none)."""
    return [
        Passage(name, chunk.page_start, chunk.page_end, chunk.heading, chunk.text)
        for chunk in chunk_document(document, **options)
    ]


def evaluate(
    passages: list[Passage],
    questions: list[dict[str, object]],
    *,
    tokenizer: str,
    weights: tuple[float, float],
    headings: bool = True,
    distinct: bool = True,
) -> tuple[float, float]:
    """(hit@1, hit@5) of bm25 over `passages` in an in-memory FTS5 table."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(heading, body, tokenize='{tokenizer}')")
    conn.executemany(
        "INSERT INTO t(rowid, heading, body) VALUES (?, ?, ?)",
        ((i, p.heading if headings else "", p.text) for i, p in enumerate(passages)),
    )
    sql = (
        f"SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t, {weights[0]}, {weights[1]}) LIMIT ?"
    )
    hits1 = hits5 = 0
    for question in questions:
        expression = build_match_query(str(question["question"]))
        if expression is None:
            continue
        limit = K * fts.OVERFETCH if distinct else K
        found = [
            fts.Located(
                rowid,
                0.0,
                passages[rowid].file,
                passages[rowid].page_start,
                passages[rowid].page_end,
            )
            for (rowid,) in conn.execute(sql, (expression, limit))
        ]
        if distinct:
            found = fts.distinct_places(found, K)
        rows = [passages[hit.rowid] for hit in found]
        good = [
            p.file == question["file"]
            and any(p.page_start <= page <= p.page_end for page in question["pages"])  # type: ignore[attr-defined]
            for p in rows
        ]
        hits1 += bool(good[:1] and good[0])
        hits5 += any(good)
    conn.close()
    return hits1 / len(questions), hits5 / len(questions)


def main() -> None:
    """Parse the manuals, build both indexes, print hit@1 and hit@5 for each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="also try other chunk settings")
    args = parser.parse_args()

    questions = json.loads(QUESTIONS.read_text())["questions"]
    started = time.perf_counter()
    documents = {name: parse_file(path, max_bytes=200 * 2**20) for name, path in fetch().items()}
    pages = sum(document.pages for document in documents.values())
    print(
        f"parsed {pages} pages in {time.perf_counter() - started:.1f} s; {len(questions)} questions"
    )

    baseline = [p for name, doc in documents.items() for p in fixed_chunks(name, doc)]
    ours = [p for name, doc in documents.items() for p in our_chunks(name, doc)]
    rows: list[tuple[str, int, tuple[float, float]]] = [
        (
            "baseline: fixed 150-word chunks, unicode61, bm25",
            len(baseline),
            evaluate(
                baseline,
                questions,
                tokenizer="unicode61",
                weights=(1.0, 1.0),
                headings=False,
                distinct=False,
            ),
        ),
        (
            f"default: {CHUNK_WORDS}w/{OVERLAP_WORDS} overlap windows, porter, "
            f"headings x{fts.BM25_WEIGHTS[0]:g}, distinct pages",
            len(ours),
            evaluate(ours, questions, tokenizer=fts.TOKENIZER, weights=fts.BM25_WEIGHTS),
        ),
    ]
    if args.sweep:
        rows.append(
            (
                "  ablation: default without collapsing overlapping hits",
                len(ours),
                evaluate(
                    ours,
                    questions,
                    tokenizer=fts.TOKENIZER,
                    weights=fts.BM25_WEIGHTS,
                    distinct=False,
                ),
            )
        )
        rows.append(
            (
                "  ablation: default without heading column",
                len(ours),
                evaluate(
                    ours, questions, tokenizer=fts.TOKENIZER, weights=(1.0, 1.0), headings=False
                ),
            )
        )
        rows.append(
            (
                "  ablation: default with unicode61 (no stemming)",
                len(ours),
                evaluate(
                    ours,
                    questions,
                    tokenizer="unicode61 remove_diacritics 2",
                    weights=fts.BM25_WEIGHTS,
                ),
            )
        )
        for size, overlap in [(80, 25), (100, 30), (150, 50), (200, 60), (300, 100)]:
            chunks = [
                p
                for name, doc in documents.items()
                for p in our_chunks(name, doc, chunk_words=size, overlap_words=overlap)
            ]
            rows.append(
                (
                    f"  sweep: {size}w/{overlap} overlap",
                    len(chunks),
                    evaluate(chunks, questions, tokenizer=fts.TOKENIZER, weights=fts.BM25_WEIGHTS),
                )
            )
        for weight in (1.0, 2.0, 8.0):
            rows.append(
                (
                    f"  sweep: heading weight x{weight:g}",
                    len(ours),
                    evaluate(ours, questions, tokenizer=fts.TOKENIZER, weights=(weight, 1.0)),
                )
            )
    print(f"{'ranking':<70} {'chunks':>7} {'hit@1':>6} {'hit@5':>6}")
    for label, count, (hit1, hit5) in rows:
        print(f"{label:<70} {count:>7} {hit1:>6.2f} {hit5:>6.2f}")
    print(f"(min_words={MIN_WORDS}, max_units={MAX_UNITS_PER_CHUNK}, k={K})")


if __name__ == "__main__":
    main()
