"""The benchmark code runs end to end at tiny sizes, so it cannot rot (no durations asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `bench` lives beside `tests`

from bench.__main__ import FIGURES, run
from bench.sizes import TINY


def test_every_figure_runs_through_real_servers_and_reports_positive_numbers(tmp_path):
    result = run(TINY, tmp_path, FIGURES)

    assert {"date", "revision", "python", "machine", "sizes"} <= set(result["meta"])
    assert result["table"].startswith("| figure |")
    sections = {figure["section"] for figure in result["figures"]}
    assert {"1.", "2.", "3.", "4.", "5."} <= sections
    for figure in result["figures"]:
        assert figure["label"]
        assert figure["unit"]
        for key in ("ours", "baseline", "ratio"):
            spread = figure[key]
            if spread is None:
                continue
            assert spread["min"] <= spread["median"] <= spread["max"]
            # A few connections may not move the RSS by a page: memory may read as zero.
            assert spread["min"] >= 0 if figure["unit"] == "KiB" else spread["min"] > 0
        assert figure["met"] in (True, False, None)
    measured_or_explained = sections | {m["section"] for m in result["not_measured"]}
    assert any(s.startswith("6.") for s in measured_or_explained)
    # The hybrid figures: search at many chunks beside raw FTS5, embedding and ingestion.
    assert {"7.", "8."} <= sections
    labels = [figure["label"] for figure in result["figures"]]
    assert any("hybrid search" in label and "p99" in label for label in labels)
    assert any("first hybrid search after a restart" in label for label in labels)
    assert any("embedding throughput, wordllama" in label for label in labels)
    assert any("until every vector is stored" in label for label in labels)


def test_a_few_seconds_of_soak_exit_0_and_print_their_figures(tmp_path):
    # Seconds instead of 15 minutes, 8 connections of 2 users instead of 300 of 50.
    tiny = ["--minutes", "0.15", "--connections", "8", "--users", "2", "--processes", "1"]
    tiny += ["--think", "0.5", "--short-seconds", "2", "--doc-interval", "0.5"]
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.soak", *tiny, "--out", str(out)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert done.stdout.startswith("| figure |")
    for figure in ("durable message echo p99", "reply complete p99", "server peak RSS (VmHWM)"):
        assert f"{figure} |" in done.stdout
    assert "first 2 s:" in done.stdout  # each p99 beside the short run's
    result = json.loads(out.read_text())
    assert result["figures"]["acknowledged"] > 0
    assert result["figures"]["store"]["not_stored_exactly_once"] == 0
    assert result["failures"] == []


def test_the_postgresql_figure_runs_servers_on_one_cluster_and_reports_positive_numbers(tmp_path):
    from studymate_jupyter.postgres_cluster import postgres_bindir

    if postgres_bindir() is None and os.environ.get("CI") != "true":
        pytest.skip("PostgreSQL is not installed")
    result = run(TINY, tmp_path, ("11",))

    assert result["not_measured"] == []
    labels = [figure["label"] for figure in result["figures"]]
    assert {figure["section"] for figure in result["figures"]} == {"11."}
    assert any(label.startswith("acknowledged user messages, 2 servers") for label in labels)
    assert any("durable message echo p99" in label for label in labels)
    for retriever in ("bm25", "hybrid"):
        assert any(f"({retriever})" in label and "p99" in label for label in labels)
    for figure in result["figures"]:
        for key in ("ours", "baseline", "ratio"):
            assert figure[key]["min"] > 0
