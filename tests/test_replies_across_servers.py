"""Servers that share one PostgreSQL database answer a chat one reply at a time between them:
the same user on two servers (a hub's named servers), servers that start while another
streams, and a server killed in the middle of a reply."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fake_llm import FakeLLM
from sqlalchemy.engine import URL
from waiting import until

from studymate_jupyter.assistant.prompt import WITHOUT_MATERIAL
from studymate_jupyter.postgres_cluster import connect_database
from studymate_jupyter.pytest_plugin import ChatClient, Frame, ServerProcess
from studymate_jupyter.store.claims import claim_key

# Slow enough that replies asked at once would overlap for most of their length.
PIECE_DELAY = 0.03


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    fake = FakeLLM([f"piece{n} " for n in range(15)], delay=PIECE_DELAY)
    yield fake
    fake.close()


@pytest.fixture
def servers(tmp_path: Path, postgres_url: URL, llm: FakeLLM) -> Iterator[list[ServerProcess]]:
    """Servers on one database, the same owner on each; started by the test, stopped after."""
    started: list[ServerProcess] = []

    def server(name: str) -> ServerProcess:
        db_url = postgres_url.render_as_string(hide_password=False)
        process = ServerProcess(
            tmp_path / name, extra_args=[f"--StudyMate.db_url={db_url}", *llm.args]
        )
        started.append(process)
        return process

    yield [server(name) for name in ("a", "b", "c")]
    for process in started:
        process.stop()


@pytest.fixture
def database(postgres_url: URL) -> Iterator[psycopg.Connection[Any]]:
    """The shared database as the test reads it, beside the servers (off the test's loop,
    which runs the model the servers stream from)."""
    with connect_database(postgres_url) as conn:
        yield conn


async def start(*servers: ServerProcess) -> None:
    await asyncio.gather(*(asyncio.to_thread(server.start) for server in servers))


async def ask(client: ChatClient, chat_id: str, text: str) -> str:
    """Send a question and return its id once it is acknowledged (echoed)."""
    message_id = uuid.uuid4().hex
    body = {"id": message_id, "role": "user", "content": text}
    await client.send("message", {"chat_id": chat_id, "message": body})
    await client.recv_until(lambda f: _is_message(f, message_id))
    return message_id


def _is_message(frame: Frame, message_id: str) -> bool:
    return frame["type"] == "message" and frame["data"]["message"]["id"] == message_id


async def final_replies(client: ChatClient, questions: set[str]) -> dict[str, dict[str, Any]]:
    """The final state of the reply to each question, as this client's server streamed it
    (from every frame the client got, those read while it waited for an echo too)."""
    while True:
        replies = {
            message["reply_to"]: message
            for frame in client.seen
            if frame["type"] == "message"
            and (message := frame["data"]["message"]).get("reply_to") in questions
            and message["status"] != "streaming"
        }
        if set(replies) == questions:
            return replies
        await client.recv(timeout=30)


async def assistant_rows(database: psycopg.Connection[Any], chat_id: str) -> list[tuple[str, str]]:
    """(reply_to, status) of the chat's stored replies, in the order they started."""

    def read() -> list[tuple[str, str]]:
        rows = database.execute(
            "SELECT reply_to, status FROM messages WHERE chat_id = %s AND role = 'assistant' "
            "ORDER BY seq",
            (chat_id,),
        ).fetchall()
        return [(str(reply_to), str(status)) for reply_to, status in rows]

    return await asyncio.to_thread(read)


async def streaming_now(database: psycopg.Connection[Any], chat_id: str) -> int:
    def read() -> int:
        row = database.execute(
            "SELECT count(*) FROM messages WHERE chat_id = %s AND status = 'streaming'",
            (chat_id,),
        ).fetchone()
        assert row is not None
        return int(row[0])

    return await asyncio.to_thread(read)


async def test_questions_sent_to_one_chat_through_two_servers_at_once_are_answered_one_at_a_time(
    servers: list[ServerProcess], database: psycopg.Connection[Any]
) -> None:
    a, b, _ = servers
    await start(a, b)
    chat_id = a.call("POST", "studymate/api/chats", {"title": "Shared"})["id"]
    on_a, on_b = await a.connect(), await b.connect()

    most_streaming = 0
    watching = True

    async def watch() -> None:
        nonlocal most_streaming
        while watching:
            most_streaming = max(most_streaming, await streaming_now(database, chat_id))
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    try:

        async def ask_twice(client: ChatClient, through: str) -> set[str]:
            return {
                await ask(client, chat_id, f"first through {through}"),
                await ask(client, chat_id, f"second through {through}"),
            }

        through_a, through_b = await asyncio.gather(ask_twice(on_a, "a"), ask_twice(on_b, "b"))
        answered = await asyncio.gather(
            final_replies(on_a, through_a), final_replies(on_b, through_b)
        )
    finally:
        watching = False
        await watcher

    assert most_streaming == 1, "two replies of the chat streamed at the same time"
    whole = WITHOUT_MATERIAL + "".join(f"piece{n} " for n in range(15))
    for replies in answered:
        assert [(r["status"], r["content"]) for r in replies.values()] == [("complete", whole)] * 2
    stored = await assistant_rows(database, chat_id)
    asked = through_a | through_b
    assert sorted(reply_to for reply_to, _ in stored) == sorted(asked), "each answered once"
    assert {status for _, status in stored} == {"complete"}


async def test_a_server_that_starts_while_another_streams_a_reply_leaves_that_reply_alone(
    servers: list[ServerProcess], database: psycopg.Connection[Any], llm: FakeLLM
) -> None:
    a, b, _ = servers
    llm.pieces = [f"piece{n} " for n in range(2000)]  # streams far longer than a start takes
    await start(a)
    chat_id = a.call("POST", "studymate/api/chats", {"title": "Long answer"})["id"]
    on_a = await a.connect()
    question = await ask(on_a, chat_id, "explain at length")
    await until(lambda: llm.sent > 0, what="the reply streams")

    await start(b)
    assert await assistant_rows(database, chat_id) == [(question, "streaming")]
    assert "marked as failed" not in b.log_path.read_text()
    streamed_before = llm.sent
    await until(lambda: llm.sent > streamed_before + 3, what="the reply streams on")

    await on_a.send("stop", {"chat_id": chat_id})
    (reply,) = (await final_replies(on_a, {question})).values()
    assert reply["status"] == "stopped"
    assert reply["content"].startswith(WITHOUT_MATERIAL + "piece0 piece1 piece2")
    # The claim is let go with the reply's end: the other server answers in that chat next.
    llm.pieces = ["short ", "answer"]
    on_b = await b.connect()
    follow_up = await ask(on_b, chat_id, "in short?")
    (short,) = (await final_replies(on_b, {follow_up})).values()
    assert (short["status"], short["content"]) == ("complete", WITHOUT_MATERIAL + "short answer")


async def test_a_killed_servers_reply_is_failed_at_the_next_start_and_its_queue_answered_once(
    servers: list[ServerProcess], database: psycopg.Connection[Any], llm: FakeLLM
) -> None:
    a, b, c = servers
    llm.pieces = [f"piece{n} " for n in range(2000)]
    await start(a, b)
    chat_id = b.call("POST", "studymate/api/chats", {"title": "Cut off"})["id"]
    on_b = await b.connect()
    cut_off = await ask(on_b, chat_id, "explain at length")
    await until(lambda: llm.sent > 0, what="the reply streams")
    queued = await ask(on_b, chat_id, "and then?")  # acknowledged, waiting behind the reply
    await asyncio.to_thread(b.kill)
    # The server that stays up has nothing of its own in that chat: it leaves it as it is.
    await asyncio.sleep(0.5)
    assert await assistant_rows(database, chat_id) == [(cut_off, "streaming")]

    llm.pieces = ["answered ", "once"]
    # Two servers start at once (a hub respawning b, and c): between them, one failed reply
    # and one answer.
    await start(b, c)
    await until(
        lambda: "answering 1 question" in b.log_path.read_text() + c.log_path.read_text(),
        what="a starting server answers the queued question",
    )
    await until_stored_reply(a, chat_id, queued)
    await asyncio.sleep(1.0)  # time enough for a second answer, were one coming
    assert await assistant_rows(database, chat_id) == [(cut_off, "error"), (queued, "complete")]
    logs = b.log_path.read_text() + c.log_path.read_text()
    assert logs.count("1 reply(s) cut off by a stop were marked as failed") == 1


async def test_a_hub_users_server_answers_only_that_users_questions_left_by_a_stop(
    servers: list[ServerProcess],
    database: psycopg.Connection[Any],
    llm: FakeLLM,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b, c = servers
    llm.pieces = [f"piece{n} " for n in range(2000)]
    await start(a)
    chat_id = a.call("POST", "studymate/api/chats", {"title": "Owner's"})["id"]
    on_a = await a.connect()
    cut_off = await ask(on_a, chat_id, "explain at length")
    await until(lambda: llm.sent > 0, what="the reply streams")
    queued = await ask(on_a, chat_id, "and then?")
    await asyncio.to_thread(a.kill)

    llm.pieces = ["the owner's ", "answer"]
    # A hub hands each single-user server its user's name: this one is someone else's.
    monkeypatch.setenv("JUPYTERHUB_USER", "someone-else")
    await start(b)
    await asyncio.sleep(1.0)
    assert "answering" not in b.log_path.read_text()
    # The orphaned reply is failed all the same: nobody will ever finish it.
    assert await assistant_rows(database, chat_id) == [(cut_off, "error")]

    monkeypatch.delenv("JUPYTERHUB_USER")
    await start(c)
    await until_stored_reply(c, chat_id, queued)
    assert await assistant_rows(database, chat_id) == [(cut_off, "error"), (queued, "complete")]


async def until_stored_reply(server: ServerProcess, chat_id: str, question: str) -> None:
    """Wait until the chat's history, as `server` reads it, holds the question's final reply."""
    for _ in range(300):
        page = await asyncio.to_thread(server.get, f"studymate/api/chats/{chat_id}/messages")
        if any(
            m.get("reply_to") == question and m["status"] != "streaming" for m in page["messages"]
        ):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the question was not answered")


CLAIM_CONNECTIONS = (
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'studymate chat claims' "
    "AND datname = current_database()"
)


async def drop_claim_connections(database: psycopg.Connection[Any]) -> None:
    """Cut the servers' claim connections, as a database restart or a network failure does."""

    def cut() -> None:
        database.execute(f"SELECT pg_terminate_backend(pid) FROM ({CLAIM_CONNECTIONS}) AS c")

    await asyncio.to_thread(cut)


async def claims_held(database: psycopg.Connection[Any]) -> int:
    def count() -> int:
        row = database.execute(
            f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            f"AND pid IN ({CLAIM_CONNECTIONS})"
        ).fetchone()
        assert row is not None
        return int(row[0])

    return await asyncio.to_thread(count)


async def until_claims_held(database: psycopg.Connection[Any], n: int, what: str) -> None:
    for _ in range(100):
        if await claims_held(database) == n:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(what)


async def test_a_reply_whose_claim_connection_drops_claims_its_chat_again_and_goes_on(
    servers: list[ServerProcess], database: psycopg.Connection[Any], llm: FakeLLM
) -> None:
    a, b, _ = servers
    llm.pieces = [f"piece{n} " for n in range(2000)]
    await start(a)
    chat_id = a.call("POST", "studymate/api/chats", {"title": "Through a drop"})["id"]
    on_a = await a.connect()
    question = await ask(on_a, chat_id, "explain at length")
    await until(lambda: llm.sent > 0, what="the reply streams")
    assert await claims_held(database) == 1

    await drop_claim_connections(database)
    await until_claims_held(database, 1, "the chat was not claimed again")
    # Claimed again: a server starting now leaves the reply streaming.
    await start(b)
    assert await assistant_rows(database, chat_id) == [(question, "streaming")]

    await on_a.send("stop", {"chat_id": chat_id})
    (reply,) = (await final_replies(on_a, {question})).values()
    assert reply["status"] == "stopped"
    # Released once the stopped reply is stored, which its final frame does not wait for.
    await until_claims_held(database, 0, "the claim was kept after the reply stopped")
    log = a.log_path.read_text()
    assert "the connection holding chat claims was lost" in log
    assert "the connection holding chat claims is back" in log


async def test_a_reply_whose_chat_was_claimed_elsewhere_while_its_connection_was_down_fails(
    servers: list[ServerProcess], database: psycopg.Connection[Any], llm: FakeLLM
) -> None:
    a, _, _ = servers
    llm.pieces = [f"piece{n} " for n in range(2000)]
    await start(a)
    chat_id = a.call("POST", "studymate/api/chats", {"title": "Taken"})["id"]
    on_a = await a.connect()
    question = await ask(on_a, chat_id, "explain at length")
    await until(lambda: llm.sent > 0, what="the reply streams")

    await drop_claim_connections(database)
    # Another server (here the test) claims the chat before this one can take it back.
    await asyncio.to_thread(database.execute, "SELECT pg_advisory_lock(%s)", (claim_key(chat_id),))
    try:
        (reply,) = (await final_replies(on_a, {question})).values()
        assert reply["status"] == "error"
        assert reply["content"].startswith(WITHOUT_MATERIAL + "piece0 ")
        assert await assistant_rows(database, chat_id) == [(question, "error")]
    finally:
        await asyncio.to_thread(
            database.execute, "SELECT pg_advisory_unlock(%s)", (claim_key(chat_id),)
        )
    # The chat is this server's again once the other lets it go.
    llm.pieces = ["after"]
    later = await ask(on_a, chat_id, "and now?")
    (answer,) = (await final_replies(on_a, {later})).values()
    assert (answer["status"], answer["content"]) == ("complete", WITHOUT_MATERIAL + "after")
    assert "another server claimed chat" in a.log_path.read_text()
