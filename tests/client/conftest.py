"""Fixtures of the client tests: a real server with a small study library."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studymate_jupyter.pytest_plugin import ServerProcess

NOTES = """# Eigenvalues

An eigenvalue of a square matrix A is a scalar lambda such that A v = lambda v for some
nonzero vector v, the eigenvector. Eigenvalues are the roots of the characteristic polynomial.

# Determinants

The determinant of a square matrix is zero exactly when the matrix is singular.
"""


@pytest.fixture
def library_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server (default offline assistant) whose library holds one Markdown document."""
    server = ServerProcess(tmp_path)
    (server.root_dir / "notes.md").write_text(NOTES, encoding="utf-8")
    server.start()
    try:
        document = server.call("POST", "studymate/api/documents", {"path": "notes.md"})
        deadline = time.monotonic() + 60
        while server.call("GET", f"studymate/api/documents/{document['id']}")["status"] != "ready":
            assert time.monotonic() < deadline, "the document was never indexed"
            time.sleep(0.2)
        yield server
    finally:
        server.stop()
