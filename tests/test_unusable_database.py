"""A db_url StudyMate cannot use stops StudyMate with one plain line; the server runs on."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import urllib.error
from pathlib import Path

import pytest

from studymate_jupyter.pytest_plugin import ServerProcess
from studymate_jupyter.store import schema
from studymate_jupyter.store.db import Database

NEWER = int(schema.HEAD) + 1


def under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("a file, where a folder would have to be")
    return tmp_path / "notes.txt" / "studymate" / "studymate.db"


def a_directory(tmp_path: Path) -> Path:
    (tmp_path / "studymate.db").mkdir()
    return tmp_path / "studymate.db"


def random_bytes(tmp_path: Path) -> Path:
    (tmp_path / "studymate.db").write_bytes(os.urandom(16384))
    return tmp_path / "studymate.db"


def a_newer_schema(tmp_path: Path) -> Path:
    # As a StudyMate from before Alembic would count it, in the ledger it kept.
    path = tmp_path / "studymate.db"
    Database(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO studymate_schema (version) VALUES (?)", (NEWER,))
    conn.close()
    return path


def a_newer_revision(tmp_path: Path) -> Path:
    # A revision this code does not have, as a newer StudyMate's Alembic would stamp it.
    path = tmp_path / "studymate.db"
    Database(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE {schema.VERSION_TABLE} SET version_num = ?", (str(NEWER),))
    conn.close()
    return path


CASES = {
    "a parent folder under a file": (
        under_a_file,
        "the folder {path.parent} cannot be created (Not a directory)",
    ),
    "a directory": (a_directory, "{path} is a directory, not a database file"),
    "random bytes": (random_bytes, "{path} is not a SQLite database (file is not a database)"),
    "a newer schema": (
        a_newer_schema,
        f"{{path}} was written by a newer StudyMate (schema version {NEWER}; this one "
        f"knows up to {schema.HEAD}): upgrade StudyMate or give another db_url",
    ),
    "a newer revision": (
        a_newer_revision,
        f"{{path}} was written by a newer StudyMate (schema version {NEWER}; this one "
        f"knows up to {schema.HEAD}): upgrade StudyMate or give another db_url",
    ),
}


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` and a digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(params=list(CASES), ids=list(CASES))
def case(request, tmp_path):
    make, problem = CASES[request.param]
    folder = tmp_path / "data"
    folder.mkdir()
    path = make(folder)
    return path, problem.format(path=path)


def test_studymate_refuses_with_one_line_and_the_server_runs_and_stops_on_sigterm(tmp_path, case):
    path, problem = case
    before = snapshot(tmp_path / "data")
    server = ServerProcess(tmp_path / "server", extra_args=[f"--StudyMate.db_url=sqlite:///{path}"])
    server.start()
    try:
        assert server.get("api/status")["started"]
        with pytest.raises(urllib.error.HTTPError) as off:
            server.get("studymate/api/chats")
        off.value.close()  # the answer's socket, or it warns when collected
        assert off.value.code == 404
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=10) == 0
    finally:
        server.stop()
    log = server.log_path.read_text()
    lines = [line for line in log.splitlines() if "StudyMate did not start" in line]
    assert len(lines) == 1, log
    assert lines[0].endswith(f"StudyMate did not start: StudyMate.db_url: {problem}"), log
    assert "Traceback" not in log
    # Refused without a write: not even the journal mode of a newer StudyMate's file changes.
    assert snapshot(tmp_path / "data") == before
