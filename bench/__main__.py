"""`python -m bench [--quick]`: run every figure, print the table, write the JSON results."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import (
    compression,
    history,
    hybrid_search,
    ingest,
    persistence,
    postgres,
    retrieval,
    roundtrip,
    soak,
    streaming,
)
from .process import git_revision, raise_fd_limit
from .report import Row, table
from .servers import BareEcho
from .sizes import FULL, QUICK, Sizes

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
FIGURES = ("1", "2", "3", "4", "5", "6", "7", "8", "9")
# Figure 8 ingests R's reference index with every vector (MiniLM: most of an hour on two
# shared cores), so a plain run leaves it out: `--only 8` runs it.
DEFAULT_FIGURES = ("1", "2", "3", "4", "5", "6", "7", "9")
# Figure 10 is the soak (bench/soak.py; 15 minutes, 1.5 with --quick): `--only 10` runs it.
# Figure 11 is StudyMate on PostgreSQL (bench/postgres.py; needs its server binaries, and builds
# a library of 100,000 chunks): `--only 11` runs it.


STARTED = time.monotonic()


def log(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {text}", file=sys.stderr, flush=True)


def run(sizes: Sizes, workdir: Path, figures: tuple[str, ...] = FIGURES) -> dict[str, Any]:
    """Run the chosen figures; the result document (also what latest.json holds)."""
    raise_fd_limit()
    started = time.monotonic()
    rows: list[Row] = []
    missing: list[tuple[str, str]] = []
    if {"1", "2", "4"} & set(figures):
        with BareEcho() as bare:
            log("1-2. round trips, throughput, memory")
            found, server = roundtrip.run(workdir, sizes, bare, bool({"1", "2"} & set(figures)))
            try:
                rows += found
                if "4" in figures:
                    log("4. persistence")
                    rows += persistence.run(workdir, sizes, server, bare)
            finally:
                server.stop()
    if "3" in figures:
        log("3. history")
        rows += history.run(workdir, sizes)
    if "5" in figures:
        log("5. streaming")
        rows += streaming.run(workdir, sizes)
    if "6" in figures:
        log("6. retrieval")
        try:
            found, not_measured = retrieval.run(workdir, sizes)
        except Exception as exc:
            # The library is the newest part: a failure there must not cost the other figures.
            log(f"6. retrieval failed: {type(exc).__name__}: {exc}")
            found, not_measured = [], [("6. retrieval", f"failed: {type(exc).__name__}: {exc}")]
        rows += found
        missing += not_measured
    for figure, what, module in (
        ("7", "hybrid search", hybrid_search),
        ("8", "ingestion", ingest),
        ("11", "PostgreSQL", postgres),
    ):
        if figure in figures:
            log(f"{figure}. {what}")
            try:
                found, not_measured = module.run(workdir, sizes)
            except Exception as exc:
                log(f"{figure}. {what} failed: {type(exc).__name__}: {exc}")
                found, not_measured = [], [(f"{figure}. {what}", f"failed: {exc}")]
            rows += found
            missing += not_measured
    if "9" in figures:
        log("9. compression")
        rows += compression.run(workdir, sizes)
    if "10" in figures:
        log("10. soak")
        rows += soak.rows_for(workdir, sizes)
    log("done")
    rows.sort(key=lambda row: int(row.section.rstrip(".")))  # 10 after 9
    return {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "revision": git_revision(),
            "python": platform.python_version(),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
            "seconds": round(time.monotonic() - started, 1),
            "sizes": sizes.as_dict(),
        },
        "figures": [row.as_dict() for row in rows],
        "not_measured": [{"section": s, "reason": r} for s, r in missing],
        "table": table(rows, missing),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under two minutes")
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_FIGURES),
        help=f"figures to run, e.g. 1,2 (default: {','.join(DEFAULT_FIGURES)}; 8, 10, 11 "
        "when named)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    args = parser.parse_args(argv)
    figures = tuple(f.strip() for f in args.only.split(",") if f.strip())
    sizes = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="studymate-bench-") as tmp:
        result = run(sizes, Path(tmp), figures)
    result["meta"]["command"] = " ".join(["python -m bench", *(argv or sys.argv[1:])])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(result["table"])
    print(
        f"\n{result['meta']['date']} · {result['meta']['machine']} · "
        f"{result['meta']['seconds']} s · written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
