"""A server on PostgreSQL as a hub would start it: the URL from STUDYMATE_DB_URL, never its
password in the log, and writes answered `unavailable` (503) while the database is down."""

from __future__ import annotations

import asyncio
import json
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

from studymate_jupyter.postgres_cluster import PostgresCluster, start_or_skip
from studymate_jupyter.pytest_plugin import ServerProcess


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of this module's own, not the session's: these tests stop it."""
    own = start_or_skip()
    try:
        yield own
    finally:
        own.remove()


@pytest.fixture
def cluster(own_cluster: PostgresCluster) -> PostgresCluster:
    """The module's cluster, running (a test before may have left it stopped)."""
    if not own_cluster.running:
        own_cluster.start()
    return own_cluster


def refusal(server: ServerProcess, method: str, path: str, body: object = None) -> tuple[int, dict]:
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.call(method, path, body)
    with refused.value:
        return refused.value.code, json.loads(refused.value.read())


async def test_a_server_on_postgresql_answers_unavailable_while_it_is_down_and_recovers(
    tmp_path: Path, cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = cluster.create_database()
    # db_url left empty, as a hub leaves it: the server takes STUDYMATE_DB_URL.
    monkeypatch.setenv("STUDYMATE_DB_URL", url.render_as_string(hide_password=False))
    server = ServerProcess(tmp_path, extra_args=["--StudyMate.db_url="])
    await asyncio.to_thread(server.start)
    try:
        before = server.call("POST", "studymate/api/chats", {"title": "Before"})
        ws = await server.connect()
        frames = await ws.reply_to("Is anyone there?", chat_id=before["id"])
        assert frames[-1]["data"]["message"]["status"] == "complete"

        await asyncio.to_thread(cluster.stop)
        code, body = await asyncio.to_thread(
            refusal, server, "POST", "studymate/api/chats", {"title": "While down"}
        )
        assert code == 503
        assert body["code"] == "unavailable"
        assert body["message"].startswith("nothing was stored: the database server")
        await ws.send(
            "message",
            {"chat_id": before["id"], "message": {"id": "m-down", "role": "user", "content": "?"}},
        )
        error = (await ws.recv_until(lambda f: f["type"] == "error"))[-1]["data"]
        assert error["code"] == "unavailable"

        await asyncio.to_thread(cluster.start)
        after = server.call("POST", "studymate/api/chats", {"title": "After"})
        titles = [chat["title"] for chat in server.get("studymate/api/chats")["chats"]]
        assert sorted(titles) == ["After", "Before"]
        assert after["id"] != before["id"]
        messages = server.get(f"studymate/api/chats/{before['id']}/messages")["messages"]
        assert "m-down" not in [m["id"] for m in messages]
    finally:
        await asyncio.to_thread(server.stop)
    log = server.log_path.read_text()
    assert "StudyMate could not write: the database server" in log
    assert cluster.password not in log


@pytest.mark.parametrize("problem", ["a wrong password", "no server"])
def test_a_postgresql_url_studymate_cannot_open_is_refused_in_one_line_without_the_password(
    tmp_path: Path, cluster: PostgresCluster, problem: str
) -> None:
    url = cluster.create_database()
    if problem == "a wrong password":
        given = cluster.url(str(url.database), password="s3cret-wrong")
        reason = 'password authentication failed for user "studymate"'
    else:
        cluster.stop()
        given = url.set(password="s3cret-wrong")
        reason = "Connection refused"
    server = ServerProcess(
        tmp_path, extra_args=[f"--StudyMate.db_url={given.render_as_string(hide_password=False)}"]
    )
    server.start()
    try:
        assert server.get("api/status")["started"]
    finally:
        server.stop()
    log = server.log_path.read_text()
    lines = [line for line in log.splitlines() if "StudyMate did not start" in line]
    assert len(lines) == 1, log
    shown = f"postgresql+psycopg://studymate:***@127.0.0.1:{cluster.port}/{url.database}"
    assert f"StudyMate did not start: StudyMate.db_url: {shown} cannot be opened" in lines[0]
    assert reason in lines[0]
    assert "s3cret-wrong" not in log
    assert cluster.password not in log
    assert "Traceback" not in log
