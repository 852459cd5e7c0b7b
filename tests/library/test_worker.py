"""Parsing in a child process: results come back; hostile files are stopped by the limits."""

from __future__ import annotations

import multiprocessing
import time
from typing import TYPE_CHECKING

import pdfs
import pytest

from studymate_jupyter.library.errors import IngestError
from studymate_jupyter.library.parsers import parse_file
from studymate_jupyter.library.worker import parse_document

if TYPE_CHECKING:
    from pathlib import Path

    from studymate_jupyter.passages import ParsedDocument

MB = 2**20


def parse(path: Path) -> ParsedDocument:
    return parse_document(path, max_bytes=50 * MB, timeout=60, max_memory=1024 * MB)


def test_worker_returns_the_same_document_as_parsing_in_process(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "two.pdf", pdfs.text_pdf([["first page"], ["second page"]]))
    assert parse(path) == parse_file(path, max_bytes=50 * MB)


def test_worker_reports_bad_files_with_their_reason(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "locked.pdf", pdfs.encrypted_pdf())
    with pytest.raises(IngestError, match=r"^encrypted PDF$"):
        parse(path)


def test_file_too_large_is_refused_before_a_worker_starts(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_text("x" * (2 * MB))
    with pytest.raises(IngestError, match=r"^file too large \(2\.0 MB > 1\.0 MB limit\)$"):
        parse_document(path, max_bytes=MB, timeout=60, max_memory=1024 * MB)


def test_a_parse_over_the_time_limit_is_killed(tmp_path: Path) -> None:
    pages = [[f"page {n} " + "word " * 80] * 20 for n in range(300)]
    path = pdfs.write(tmp_path / "slow.pdf", pdfs.text_pdf(pages))
    started = time.monotonic()
    with pytest.raises(IngestError, match=r"^parsing took too long \(over 0\.05 s\)$"):
        parse_document(path, max_bytes=50 * MB, timeout=0.05, max_memory=1024 * MB)
    assert time.monotonic() - started < 10
    assert multiprocessing.active_children() == []


def test_a_parse_over_the_memory_limit_fails_without_hurting_the_server(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text(("many small words " * 8 + "\n") * 200_000)  # about 27 MB of words
    with pytest.raises(IngestError, match=r"memory"):
        parse_document(path, max_bytes=100 * MB, timeout=60, max_memory=150 * MB)
    assert multiprocessing.active_children() == []


def test_a_decompression_bomb_is_refused(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "bomb.pdf", pdfs.bomb_pdf(inflated_mb=256))
    with pytest.raises(IngestError):
        parse_document(path, max_bytes=50 * MB, timeout=60, max_memory=512 * MB)


def test_a_page_tree_that_contains_itself_fails_as_corrupt(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "cycle.pdf", pdfs.cyclic_pages_pdf())
    with pytest.raises(IngestError, match=r"^corrupt or unreadable PDF$"):
        parse(path)
