"""The Python client against a real `jupyter server` subprocess: conversation, restarts,
the offline queue, live sync between clients."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_llm import FakeLLM

from studymate_jupyter.assistant.prompt import WITHOUT_MATERIAL
from studymate_jupyter.client import (
    Backoff,
    ClientThread,
    ConnectionState,
    Message,
    StudyMateClient,
    StudyMateError,
    discover_running,
)
from studymate_jupyter.protocol import TypingEventData
from studymate_jupyter.pytest_plugin import ServerProcess

FAST = Backoff(base=0.05, maximum=0.3)
# The library is empty: a reply starts by saying it is not from course material.
SHORT_ANSWER = WITHOUT_MATERIAL + "short answer"


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    fake = FakeLLM(["short ", "answer"], delay=0.01)
    yield fake
    fake.close()


@pytest.fixture
def server(tmp_path: Path, llm: FakeLLM) -> Iterator[ServerProcess]:
    """A server process answering through the fake model (not started: tests start it off
    the loop, which the fake model runs on)."""
    process = ServerProcess(tmp_path, extra_args=llm.args)
    yield process
    process.stop()


def client_for(server: ServerProcess, **kwargs: object) -> StudyMateClient:
    return StudyMateClient(server.url, server.token, backoff=FAST, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def running(server: ServerProcess) -> ServerProcess:
    server.start()
    return server


async def wait_for_state(client: StudyMateClient, state: ConnectionState) -> None:
    for _ in range(400):
        if client.state == state:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"client stayed {client.state}, never {state}")


def conversation(messages: list[Message]) -> list[tuple[str, str, str]]:
    return [(m["role"], m["content"], m["status"]) for m in messages]


async def test_a_conversation_streams_the_reply_and_returns_it_when_complete(
    running: ServerProcess, llm: FakeLLM
) -> None:
    llm.pieces = [f"w{n} " for n in range(30)]
    client = client_for(running)
    states: list[ConnectionState] = []
    client.on_state.connect(states.append)
    seen: list[str] = []

    def record(message: Message) -> None:
        if message["role"] == "assistant":
            seen.append(message["content"])

    client.on_message.connect(record)
    await client.connect()
    try:
        reply = await client.send("hello", timeout=30)
        assert reply["status"] == "complete"
        assert reply["content"] == WITHOUT_MATERIAL + "".join(llm.pieces)
        # The reply arrived growing, under one id.
        assert len(seen) >= 2
        assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(seen))
        assert client.chat_id is not None
        assert conversation(client.messages) == [
            ("user", "hello", "complete"),
            ("assistant", reply["content"], "complete"),
        ]
        assert states == ["connecting", "connected"]
        me = await client.me()
        assert me["user_id"] == client.user_id
    finally:
        await client.close()
    assert client.state == "offline"


async def test_rest_helpers_list_rename_export_and_delete_chats(running: ServerProcess) -> None:
    client = client_for(running)
    await client.connect()
    try:
        await client.send("what is a matrix?", timeout=30)
        chat_id = client.chat_id
        assert chat_id is not None
        assert [c["id"] for c in await client.list_chats()] == [chat_id]
        renamed = await client.rename_chat(chat_id, "Linear algebra")
        assert renamed["title"] == "Linear algebra"
        exported = await client.export_chat(chat_id, "markdown")
        assert "what is a matrix?" in exported
        page = await client.get_messages(chat_id, limit=1)
        assert [m["role"] for m in page["messages"]] == ["assistant"]
        assert page["has_more"] is True
        extra = await client.create_chat("Another")
        deleted = asyncio.get_running_loop().create_future()
        client.on_chat_deleted.connect(lambda data: deleted.set_result(data["chat_id"]))
        await client.delete_chat(extra["id"])
        assert await asyncio.wait_for(deleted, 10) == extra["id"]
        with pytest.raises(StudyMateError) as missing:
            await client.rename_chat(extra["id"], "gone")
        assert missing.value.code == "not_found"
    finally:
        await client.close()


async def test_history_is_paged_with_load_messages(running: ServerProcess) -> None:
    client = client_for(running)
    await client.connect()
    for n in range(3):
        await client.send(f"question {n}", timeout=30)
    chat_id = client.chat_id
    assert chat_id is not None
    await client.close()

    fresh = client_for(running, chat_id=chat_id, history_limit=2)
    await fresh.connect()
    try:
        assert [m["content"] for m in fresh.messages] == ["question 2", SHORT_ANSWER]
        page = await fresh.load_older(limit=2)
        assert page["has_more"] is True
        contents = [m["content"] for m in fresh.messages]
        assert contents == ["question 1", SHORT_ANSWER, "question 2", SHORT_ANSWER]
        await fresh.load_older(limit=500)
        assert len(fresh.messages) == 6
    finally:
        await fresh.close()


async def test_a_restart_mid_conversation_loses_and_duplicates_nothing(
    server: ServerProcess, llm: FakeLLM
) -> None:
    llm.pieces = [f"piece{n} " for n in range(300)]
    await asyncio.to_thread(server.start)
    client = client_for(server)
    states: list[ConnectionState] = []
    client.on_state.connect(states.append)
    await client.connect()
    try:
        first = client.post("explain slowly")
        updates = first.updates()
        async for state in updates:
            if len(state["content"]) > len(WITHOUT_MATERIAL) + 50:
                break
        llm.pieces = ["after ", "restart"]
        await asyncio.to_thread(server.stop)
        await wait_for_state(client, "reconnecting")
        # Written while the server is down: queued, then delivered in order.
        later = [client.post(f"offline {n}") for n in range(3)]
        await asyncio.to_thread(server.start)

        cut = await asyncio.wait_for(first, 30)
        assert cut["status"] == "error"  # cut off by the shutdown, stored with what it had
        assert cut["content"].startswith(WITHOUT_MATERIAL + "piece0 ")
        answers = await asyncio.wait_for(asyncio.gather(*later), 30)
        assert [a["content"] for a in answers] == [WITHOUT_MATERIAL + "after restart"] * 3
        assert states[-3:] == ["connected", "reconnecting", "connected"]
        assert client.pending == []

        chat_id = client.chat_id
        assert chat_id is not None
        stored = (await client.get_messages(chat_id, limit=500))["messages"]
        users = [m["content"] for m in stored if m["role"] == "user"]
        assert users == ["explain slowly", "offline 0", "offline 1", "offline 2"]
        ids = [m["id"] for m in stored]
        assert len(ids) == len(set(ids)) == 8
        # The client holds exactly what the server stored. (Live order is arrival order: a
        # reply may start between two questions' echoes; a reload adopts the stored order.)
        held = {m["id"]: m for m in client.messages}
        assert sorted(held) == sorted(ids)
        assert all(conversation([held[m["id"]]]) == conversation([m]) for m in stored)
        await client.load_messages()
        assert [m["id"] for m in client.messages] == ids
    finally:
        await client.close()


async def test_a_question_queued_behind_a_reply_cut_off_by_a_restart_is_still_answered(
    server: ServerProcess, llm: FakeLLM
) -> None:
    llm.pieces = [f"piece{n} " for n in range(300)]
    await asyncio.to_thread(server.start)
    client = client_for(server)
    await client.connect()
    try:
        cut, queued = client.post("q1"), client.post("q2")
        await queued.echoed
        # The restart must cut q1's reply, so wait until it is under way.
        for _ in range(400):
            if any(m["content"].startswith(WITHOUT_MATERIAL + "piece") for m in client.messages):
                break
            await asyncio.sleep(0.025)
        llm.pieces = ["after"]
        await asyncio.to_thread(server.restart)
        assert (await asyncio.wait_for(cut, 30))["status"] == "error"
        later = client.post("q3")
        assert (await asyncio.wait_for(asyncio.shield(queued.done), 30))["status"] == "complete"
        assert (await asyncio.wait_for(asyncio.shield(later.done), 30))["status"] == "complete"
        assert queued.reply_id != later.reply_id
    finally:
        await client.close()


async def test_messages_written_before_the_server_is_up_start_one_chat_in_order(
    server: ServerProcess,
) -> None:
    client = client_for(server)
    await client.start()
    await wait_for_state(client, "reconnecting")
    replies = [client.post(f"note {n}") for n in range(4)]
    assert [item.content for item in client.pending] == [f"note {n}" for n in range(4)]
    await asyncio.to_thread(server.start)
    try:
        answers = await asyncio.wait_for(asyncio.gather(*replies), 30)
        assert {a["chat_id"] for a in answers} == {client.chat_id}
        chats = await client.list_chats()
        assert [c["id"] for c in chats] == [client.chat_id]
        held = [(m["role"], m["content"]) for m in client.messages]
        assert [text for role, text in held if role == "user"] == [f"note {n}" for n in range(4)]
        assert [text for role, text in held if role == "assistant"] == [SHORT_ANSWER] * 4
    finally:
        await client.close()


async def test_a_message_whose_echo_was_lost_is_stored_once(running: ServerProcess) -> None:
    client = client_for(running)
    await client.connect()
    try:
        await client.send("first", timeout=30)
        # Send, then drop the connection before the echo can arrive: the message is resent
        # under the same id and the server de-duplicates it.
        reply = client.post("maybe twice")
        socket = client._connection.socket
        assert socket is not None
        socket.close()
        answer = await asyncio.wait_for(reply, 30)
        assert answer["status"] == "complete"
        chat_id = client.chat_id
        assert chat_id is not None
        stored = (await client.get_messages(chat_id))["messages"]
        assert [m["content"] for m in stored if m["role"] == "user"] == ["first", "maybe twice"]
        assert len(stored) == 4
    finally:
        await client.close()


async def test_two_clients_of_one_chat_see_each_other_live(
    running: ServerProcess, llm: FakeLLM
) -> None:
    alice = client_for(running)
    await alice.connect()
    await alice.send("from alice", timeout=30)
    chat_id = alice.chat_id
    assert chat_id is not None
    bob = client_for(running, chat_id=chat_id)
    await bob.connect()
    try:
        assert [m["content"] for m in bob.messages] == ["from alice", SHORT_ANSWER]
        typing: asyncio.Future[TypingEventData] = asyncio.get_running_loop().create_future()

        def on_typing(event: TypingEventData) -> None:
            if event["role"] == "user" and not typing.done():
                typing.set_result(event)

        alice.on_typing.connect(on_typing)
        assert await bob.set_typing(True)
        assert (await asyncio.wait_for(typing, 10))["is_typing"] is True

        llm.pieces = [f"b{n} " for n in range(20)]
        alice_saw: list[Message] = []
        alice.on_message.connect(alice_saw.append)
        answer = await bob.send("from bob", timeout=30)
        await asyncio.sleep(0.2)
        assert [m["content"] for m in alice_saw if m["role"] == "user"] == ["from bob"]
        assert alice_saw[-1]["id"] == answer["id"]
        assert alice_saw[-1]["content"] == answer["content"]
        assert [m["id"] for m in alice.messages] == [m["id"] for m in bob.messages]
    finally:
        await alice.close()
        await bob.close()


async def test_stop_ends_the_reply_in_progress_keeping_what_it_had(
    running: ServerProcess, llm: FakeLLM
) -> None:
    llm.pieces = [f"long{n} " for n in range(500)]
    client = client_for(running)
    await client.connect()
    try:
        reply = client.post("go on")
        async for state in reply.updates():
            if state["content"]:
                await client.stop()
                break
        final = await asyncio.wait_for(reply, 30)
        assert final["status"] == "stopped"
        assert final["content"].startswith(WITHOUT_MATERIAL + "long0 ")
    finally:
        await client.close()


async def test_a_wrong_token_is_refused_without_retrying(running: ServerProcess) -> None:
    client = StudyMateClient(running.url, "not-the-token", backoff=FAST)
    with pytest.raises(StudyMateError) as refused:
        await client.connect(timeout=10)
    assert refused.value.code == "forbidden"
    assert client.state == "offline"
    await client.close()


async def test_the_running_server_is_discovered_from_its_runtime_files(
    running: ServerProcess,
) -> None:
    from jupyter_server.serverapp import list_running_servers

    servers = list(list_running_servers(str(running.workdir / "runtime")))
    found = await discover_running(servers, cwd=running.root_dir / "sub", kid="")
    assert (found.base_url, found.token) == (running.url, running.token)


def test_a_client_thread_lets_synchronous_code_chat(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)  # the default, offline assistant
    server.start()
    try:
        with ClientThread(url=server.url, token=server.token, backoff=FAST) as runner:
            threads: set[str] = set()
            runner.client.on_message.connect(lambda _: threads.add(threading.current_thread().name))
            runner.call(runner.client.connect(), timeout=30)
            reply = runner.call(runner.client.send("hello"), timeout=30)
            assert reply["role"] == "assistant"
            assert reply["status"] == "complete"
            assert threads == {"studymate-client"}
            assert [m["role"] for m in runner.client.messages] == ["user", "assistant"]
        assert not runner.alive
    finally:
        server.stop()


async def test_the_library_helpers_add_search_and_preview_a_cited_passage(
    library_server: ServerProcess,
) -> None:
    client = client_for(library_server)
    await client.connect()
    try:
        [document] = await client.list_documents()
        assert (document["filename"], document["status"]) == ("notes.md", "ready")
        assert (await client.get_document(document["id"]))["id"] == document["id"]
        [best, *_] = await client.search("eigenvalue", k=3)
        assert best["filename"] == "notes.md"
        assert "eigenvalue" in best["snippet"].lower()
        reply = await client.send("What is an eigenvalue?", timeout=30)
        [first, *_] = reply["citations"]
        passage = await client.passage(first["document_id"], first["chunk_id"])
        assert "eigenvalue" in passage["text"].lower()
        await client.delete_document(document["id"])
        assert await client.list_documents() == []
    finally:
        await client.close()


async def test_opening_a_chat_that_does_not_exist_fails_and_keeps_no_current_chat(
    running: ServerProcess,
) -> None:
    client = client_for(running)
    await client.connect()
    try:
        with pytest.raises(StudyMateError) as missing:
            await client.open_chat("no-such-chat")
        assert missing.value.code == "not_found"
        assert client.chat_id is None
        assert client.state == "connected"
        reply = await client.send("still works", timeout=30)
        assert reply["status"] == "complete"
    finally:
        await client.close()
