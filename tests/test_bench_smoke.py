"""The benchmark code runs end to end at tiny sizes, so it cannot rot (no durations asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

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
