"""Figure 6: retrieval (search latency, ingestion rate, time to the first answer piece)."""

from __future__ import annotations

from pathlib import Path

from .report import Row
from .sizes import Sizes

SECTION = "6."
NOT_YET = "the library lands in issue 3"


def run(workdir: Path, sizes: Sizes) -> tuple[list[Row], list[tuple[str, str]]]:
    """Rows, and the figures not measured with the reason."""
    return [], [(f"{SECTION} retrieval", NOT_YET)]
