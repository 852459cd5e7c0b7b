"""A write the database cannot take now is answered `unavailable` (HTTP 503 over REST), nothing
of it is stored, reads go on, and the same writes work once the cause goes."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import sqlite3
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from library_calls import CALCULUS_MARKDOWN

from studymate_jupyter.pytest_plugin import ServerProcess


def answer(server: ServerProcess, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """(HTTP status, decoded JSON or None) of `studymate/api/{path}`, whatever the status."""
    request = urllib.request.Request(
        f"{server.url}studymate/api/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {server.token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            status, raw = error.code, error.read()
    return status, json.loads(raw) if raw else None


def get(server: ServerProcess, path: str) -> Any:
    status, body = answer(server, "GET", path)
    assert status == 200, body
    return body


@pytest.fixture
def server(tmp_path) -> Iterator[ServerProcess]:
    # A write waits 200 ms for the file's lock, then is refused: the test need not wait 5 s.
    process = ServerProcess(tmp_path, extra_args=["--StudyMate.busy_timeout=200"])
    (process.root_dir / "calculus.md").write_text(CALCULUS_MARKDOWN)
    (process.root_dir / "later.md").write_text("# Later\n\nAdded once the file is free.\n")
    process.start()
    yield process
    process.stop()


async def ready(server: ServerProcess, path: str) -> dict[str, Any]:
    """Add a document and wait until it is indexed and its vectors are done: nothing of it
    changes or is pushed to the user's connections after that."""
    document = server.call("POST", "studymate/api/documents", {"path": path})
    deadline = asyncio.get_running_loop().time() + 30
    while document["status"] != "ready" or document["vectors"] == "pending":
        assert document["status"] != "failed", document
        assert asyncio.get_running_loop().time() < deadline, document
        await asyncio.sleep(0.1)
        document = get(server, f"documents/{document['id']}")
    return document


def writes(chat_id: str, document_id: str) -> list[tuple[str, str, Any, int]]:
    """Every REST write, with the status it answers when it works."""
    return [
        ("POST", "chats", {"title": "while locked"}, 201),
        ("PATCH", f"chats/{chat_id}", {"title": "renamed while locked"}, 200),
        ("POST", "documents", {"path": "later.md"}, 202),
        ("DELETE", f"documents/{document_id}", None, 204),
        ("DELETE", f"chats/{chat_id}", None, 204),
    ]


async def test_writes_while_another_process_locks_the_file_are_unavailable_and_work_after(
    server,
):
    chat = server.call("POST", "studymate/api/chats", {"title": "calculus"})
    document = await ready(server, "calculus.md")
    before = (get(server, "chats"), get(server, "documents"))
    ws = await server.connect()

    lock = sqlite3.connect(server.db_path, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # held for longer than busy_timeout
    try:
        for method, path, body, _ in writes(chat["id"], document["id"]):
            status, error = answer(server, method, path, body)
            assert (status, error["code"]) == (503, "unavailable"), (method, path, error)
            assert error["message"] == (
                "nothing was stored: the database is locked by another program"
            )
        await ws.send(
            "message",
            {"chat_id": chat["id"], "message": {"id": "q1", "role": "user", "content": "hi"}},
        )
        refused = await ws.recv()
        assert refused["type"] == "error"
        assert (refused["data"]["code"], refused["data"]["ref"]) == ("unavailable", "q1")
        # Reads go on: WAL readers do not wait for the writer's lock.
        assert (get(server, "chats"), get(server, "documents")) == before
    finally:
        lock.rollback()
        lock.close()

    # Nothing of the refused writes was stored, not even in part.
    assert (get(server, "chats"), get(server, "documents")) == before
    assert get(server, f"chats/{chat['id']}/messages")["messages"] == []

    # The cause gone, the same writes work.
    await ws.send(
        "message",
        {"chat_id": chat["id"], "message": {"id": "q1", "role": "user", "content": "hi"}},
    )
    echo = await ws.recv_until(lambda f: f["type"] == "message")
    assert echo[-1]["data"]["message"]["id"] == "q1"
    for method, path, body, works in writes(chat["id"], document["id"]):
        status, _ = answer(server, method, path, body)
        assert status == works, (method, path)
    titles = [c["title"] for c in get(server, "chats")["chats"]]
    assert titles == ["while locked"]
    assert [d["path"] for d in get(server, "documents")["documents"]] == ["later.md"]


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 2 MiB tmpfs for the database alone (mount needs root: skipped without it)."""
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill(folder: Path) -> Path:
    """Write a file until the disk holding `folder` is full; the file, to free it with."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\1" * 4096)
    except OSError as error:
        stopped_by = error.errno
    finally:
        os.close(fd)
    assert stopped_by == errno.ENOSPC
    return filler


async def test_writes_on_a_full_disk_are_unavailable_and_work_once_it_has_room(
    tmp_path, small_disk
):
    database = small_disk / "studymate.db"
    server = ServerProcess(
        tmp_path / "server", extra_args=[f"--StudyMate.db_url=sqlite:///{database}"]
    )
    await asyncio.to_thread(server.start)
    try:
        chat = server.call("POST", "studymate/api/chats", {"title": "calculus"})
        before = get(server, "chats")
        ws = await server.connect()
        filler = fill(small_disk)

        status, error = answer(server, "POST", "chats", {"title": "while it is full"})
        assert (status, error) == (
            503,
            {
                "code": "unavailable",
                "message": "nothing was stored: the disk holding the database is full",
            },
        )
        await ws.send(
            "message",
            {"chat_id": chat["id"], "message": {"id": "q1", "role": "user", "content": "hi"}},
        )
        refused = await ws.recv()
        assert (refused["type"], refused["data"]["code"]) == ("error", "unavailable"), refused
        assert get(server, "chats") == before
        assert get(server, f"chats/{chat['id']}/messages")["messages"] == []

        filler.unlink()
        status, created = answer(server, "POST", "chats", {"title": "once it has room"})
        assert status == 201, created
    finally:
        await asyncio.to_thread(server.stop)
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    log = server.log_path.read_text()
    assert "StudyMate could not write: the disk holding the database is full" in log
    assert "Traceback" not in log
