"""History survives restarts and crashes; nothing acknowledged is ever lost."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys

import pytest
from fake_llm import FakeLLM

from studymate_jupyter.assistant.prompt import WITHOUT_MATERIAL
from studymate_jupyter.pytest_plugin import ServerProcess, is_final_reply
from studymate_jupyter.store import schema
from studymate_jupyter.store.db import Database
from studymate_jupyter.store.migrations import STEPS


@pytest.fixture
def llm():
    fake = FakeLLM([f"piece{n} " for n in range(400)], delay=0.01)
    yield fake
    fake.close()


@pytest.fixture
def server(tmp_path, llm):
    process = ServerProcess(
        tmp_path,
        extra_args=llm.args,
    )
    yield process
    process.stop()


async def history(server: ServerProcess, chat_id: str) -> list[dict]:
    ws = await server.connect()
    await ws.send("load_messages", {"chat_id": chat_id})
    page = (await ws.recv_until(lambda f: f["type"] == "messages"))[-1]
    ws.close()
    return list(page["data"]["messages"])


async def start_reply(server: ServerProcess) -> str:
    ws = await server.connect()
    await ws.send("message", {"message": {"id": "q", "role": "user", "content": "explain"}})
    chat_id: str = (await ws.recv())["data"]["chat_id"]
    await ws.recv_until(
        lambda f: (
            f["type"] == "message"
            and len(f["data"]["message"]["content"]) > len(WITHOUT_MATERIAL) + 50
        )
    )
    return chat_id


async def test_history_survives_a_server_restart(server, llm):
    llm.pieces = ["kept ", "answer"]
    await asyncio.to_thread(server.start)
    ws = await server.connect()
    chat_id = (await ws.reply_to("remember me"))[0]["data"]["chat_id"]
    ws.close()
    await asyncio.to_thread(server.restart)
    messages = await history(server, chat_id)
    assert [(m["role"], m["content"], m["status"]) for m in messages] == [
        ("user", "remember me", "complete"),
        ("assistant", WITHOUT_MATERIAL + "kept answer", "complete"),
    ]


async def test_a_reply_cut_off_by_shutdown_is_stored_as_error_with_what_it_had(server):
    await asyncio.to_thread(server.start)
    chat_id = await start_reply(server)
    await asyncio.to_thread(server.stop)
    await asyncio.to_thread(server.start)
    user, reply = await history(server, chat_id)
    assert user["content"] == "explain"
    assert reply["status"] == "error"
    assert reply["content"].startswith(WITHOUT_MATERIAL + "piece0 piece1")


async def test_a_reply_cut_off_by_a_crash_is_marked_error_at_the_next_start(server):
    await asyncio.to_thread(server.start)
    chat_id = await start_reply(server)
    await asyncio.to_thread(server.kill)
    await asyncio.to_thread(server.start)
    user, reply = await history(server, chat_id)
    assert user["content"] == "explain", "the acknowledged message survived the crash"
    assert reply["status"] == "error"


async def test_an_acknowledged_message_survives_a_crash_right_after_its_echo(server, llm):
    llm.pieces = ["x"]
    await asyncio.to_thread(server.start)
    ws = await server.connect()
    await ws.send("message", {"message": {"id": "durable", "role": "user", "content": "keep"}})
    frames = await ws.recv_until(lambda f: f["type"] == "message")
    await asyncio.to_thread(server.kill)
    await asyncio.to_thread(server.start)
    messages = await history(server, frames[0]["data"]["chat_id"])
    assert messages[0]["id"] == "durable"


def test_the_extension_is_enabled_by_installing_the_package():
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter_server", "extension", "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    output = listed.stdout + listed.stderr
    assert "studymate_jupyter" in output
    assert "enabled" in output.split("studymate_jupyter", 1)[1].splitlines()[0]


def test_the_database_is_created_in_wal_mode_and_migrations_are_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'studymate.db'}"
    first = Database(url)
    first.close()
    again = Database(url)
    assert again.schema_version == int(schema.HEAD)
    again.close()
    with sqlite3.connect(tmp_path / "nested" / "studymate.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [row[0] for row in conn.execute("SELECT version FROM studymate_schema")]
    assert versions == list(range(1, len(STEPS) + 1))


async def test_the_database_lives_under_the_jupyter_data_dir_by_default(tmp_path):
    process = ServerProcess(tmp_path)
    process.extra_args = ["--StudyMate.db_url="]
    await asyncio.to_thread(process.start)
    try:
        ws = await process.connect()
        await ws.reply_to("where am I stored?")
    finally:
        await asyncio.to_thread(process.stop)
    assert (tmp_path / "data" / "studymate" / "studymate.db").exists()


async def test_a_question_queued_behind_a_reply_cut_off_by_a_stop_is_answered_at_restart(
    server, llm
):
    await asyncio.to_thread(server.start)
    ws = await server.connect()
    await ws.send("message", {"message": {"id": "q1", "role": "user", "content": "first"}})
    chat_id = (await ws.recv())["data"]["chat_id"]
    await ws.recv_until(
        lambda f: (
            f["type"] == "message"
            and f["data"]["message"]["content"].startswith(WITHOUT_MATERIAL + "piece")
        )
    )  # q1's reply is under way
    await ws.send(
        "message",
        {"chat_id": chat_id, "message": {"id": "q2", "role": "user", "content": "second"}},
    )
    await ws.recv_until(lambda f: f["type"] == "message" and f["data"]["message"]["id"] == "q2")
    await asyncio.to_thread(server.stop)
    llm.pieces = ["answer ", "two"]
    await asyncio.to_thread(server.start)
    # The restarted server may answer q2 before anyone connects, so subscribe first and then
    # read history, as a client that reconnects does.
    listener = await server.connect()
    await listener.send("auth", {"chat_id": chat_id})
    await listener.send("load_messages", {"chat_id": chat_id})
    frames = await listener.recv_until(lambda f: f["type"] == "messages")
    stored = frames[-1]["data"]["messages"]
    if not any(m.get("reply_to") == "q2" and m["status"] == "complete" for m in stored):
        await listener.recv_until(is_final_reply)
    listener.close()
    messages = await history(server, chat_id)
    replies = {
        m["reply_to"]: (m["status"], m["content"]) for m in messages if m["role"] == "assistant"
    }
    assert replies["q1"][0] == "error"
    assert replies["q2"] == ("complete", WITHOUT_MATERIAL + "answer two")
