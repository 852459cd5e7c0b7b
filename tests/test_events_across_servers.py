"""Live events across servers (issue 17): two jupyter-server processes on one PostgreSQL
database, alice connected to both. What one server sends to every connection of a user
reaches that user's connections on the other, through LISTEN/NOTIFY, and no one else's."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from studymate_jupyter.chat.events import ServerEvents
from studymate_jupyter.chat.hub import Hub
from studymate_jupyter.postgres_cluster import PostgresCluster, connect_database, start_or_skip
from studymate_jupyter.protocol import StreamMode, library_removed_frame
from studymate_jupyter.pytest_plugin import ChatClient, Frame, ServerProcess, is_final_reply
from studymate_jupyter.store.db import Database

TESTS = Path(__file__).parent
ALICE, BOB = "alice-token", "bob-token"  # two_users.TwoUsers names them by these
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
PAYLOAD_LIMIT = 8000


@dataclass
class Pair:
    a: ServerProcess
    b: ServerProcess
    cluster: PostgresCluster


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of this module's own, not the session's: a test here restarts it."""
    cluster = start_or_skip()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def pair(own_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Servers A and B on one database, each naming alice and bob by their tokens, ranking
    with the hybrid retriever's in-memory BM25 alone (no vector step to wait for)."""
    url = own_cluster.create_database().render_as_string(hide_password=False)
    workdir = tmp_path_factory.mktemp("across")
    with pytest.MonkeyPatch.context() as mp:
        path = os.pathsep.join(filter(None, [str(TESTS), os.getenv("PYTHONPATH")]))
        mp.setenv("PYTHONPATH", path)
        servers = [
            ServerProcess(
                workdir / name,
                extra_args=[
                    "--ServerApp.identity_provider_class=two_users.TwoUsers",
                    f"--StudyMate.db_url={url}",
                    "--StudyMate.retriever=hybrid",
                    "--HybridRetriever.signals=bm25",
                ],
            )
            for name in ("a", "b")
        ]
        for server in servers:
            server.token = ALICE  # the readiness check and server.call ask as alice
        try:
            with ThreadPoolExecutor(2) as starting:
                list(starting.map(ServerProcess.start, servers))
            yield Pair(servers[0], servers[1], own_cluster)
        finally:
            for server in servers:
                server.stop()


Connect = Callable[[ServerProcess, str], Awaitable[ChatClient]]


@pytest.fixture
def connect(jp_asyncio_loop: Any) -> Iterator[Connect]:
    """Open /ws/chat on a server as the token's user; closed after the test, on its loop."""
    clients: list[ChatClient] = []

    async def open_socket(server: ServerProcess, token: str) -> ChatClient:
        request = HTTPRequest(
            f"ws://127.0.0.1:{server.port}/ws/chat", headers={"Authorization": f"token {token}"}
        )
        clients.append(ChatClient(await websocket_connect(request)))
        return clients[-1]

    yield open_socket
    for client in clients:
        client.close()


def call(server: ServerProcess, token: str, method: str, path: str, body: Any = None) -> Any:
    """The server's REST API as the token's user: the decoded JSON answer (None when empty)."""
    request = urllib.request.Request(
        f"{server.url}studymate/api/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


async def next_frame(client: ChatClient, kind: str, timeout: float = 15, **data: Any) -> Frame:
    """The first frame of that type whose data has these values (the others are skipped)."""

    def matches(frame: Frame) -> bool:
        return frame["type"] == kind and all(frame["data"].get(k) == v for k, v in data.items())

    return (await client.recv_until(matches, timeout))[-1]


async def until_events_cross(pair: Pair, connect: Connect, timeout: float = 60) -> None:
    """Wait until a chat bob creates on A reaches bob's socket on B (B listens), creating one
    each second: what is sent while B's listener connects is not seen there."""
    watching = await connect(pair.b, BOB)
    deadline = time.monotonic() + timeout
    while True:
        try:
            chat = await asyncio.to_thread(call, pair.a, BOB, "POST", "chats", {"title": "probe"})
            await next_frame(watching, "chat_created", timeout=1, chat_id=chat["id"])
            break
        except (TimeoutError, urllib.error.HTTPError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
    watching.close()


async def test_a_chat_created_renamed_and_deleted_on_one_server_reaches_the_user_on_the_other(
    pair: Pair, connect: Connect
) -> None:
    await until_events_cross(pair, connect)
    on_b = await connect(pair.b, ALICE)

    chat = await asyncio.to_thread(call, pair.a, ALICE, "POST", "chats", {"title": "Optics"})
    created = (await next_frame(on_b, "chat_created", chat_id=chat["id"]))["data"]
    assert created == {"chat_id": chat["id"], **chat}

    rename = {"title": "Lenses"}
    await asyncio.to_thread(call, pair.a, ALICE, "PATCH", f"chats/{chat['id']}", rename)
    updated = (await next_frame(on_b, "chat_updated", chat_id=chat["id"]))["data"]
    assert updated["title"] == "Lenses"

    await asyncio.to_thread(call, pair.a, ALICE, "DELETE", f"chats/{chat['id']}")
    await next_frame(on_b, "chat_deleted", chat_id=chat["id"])

    # A chat started by a message on A's socket: B hears of it, then of the reply's end.
    on_a = await connect(pair.a, ALICE)
    frames = await on_a.reply_to("What does a convex lens do?")
    new_chat = next(f for f in frames if f["type"] == "chat_created")["data"]["chat_id"]
    assert (await next_frame(on_b, "chat_created", chat_id=new_chat))["data"]["title"]
    ended = await next_frame(on_b, "chat_updated", chat_id=new_chat)
    assert ended["data"]["message_count"] == 2


async def test_a_reaction_and_feedback_on_one_server_reach_the_user_on_the_other(
    pair: Pair, connect: Connect
) -> None:
    await until_events_cross(pair, connect)
    on_a, on_b = await connect(pair.a, ALICE), await connect(pair.b, ALICE)
    frames = await on_a.reply_to("What is a prime number?")
    reply = frames[-1]["data"]["message"]
    assert is_final_reply(frames[-1])
    chat_id = reply["chat_id"]

    await on_a.send("react", {"chat_id": chat_id, "message_id": reply["id"], "emoji": "💡"})
    reaction = await next_frame(on_b, "reaction", chat_id=chat_id, message_id=reply["id"])
    assert reaction["data"]["reactions"] == {"💡": ["alice"]}

    note = "Clear, thank you"
    await on_a.send(
        "feedback", {"chat_id": chat_id, "message_id": reply["id"], "rating": "up", "note": note}
    )
    feedback = await next_frame(on_b, "feedback", chat_id=chat_id, message_id=reply["id"])
    assert feedback["data"]["feedback"] == {"rating": "up", "note": note}


async def test_a_users_frames_never_reach_another_users_socket_on_the_other_server(
    pair: Pair, connect: Connect
) -> None:
    await until_events_cross(pair, connect)
    alice_b, bob_b = await connect(pair.b, ALICE), await connect(pair.b, BOB)

    chat = await asyncio.to_thread(call, pair.a, ALICE, "POST", "chats", {"title": "Alice's"})
    await asyncio.to_thread(call, pair.a, ALICE, "PATCH", f"chats/{chat['id']}", {"title": "Mine"})
    await asyncio.to_thread(call, pair.a, ALICE, "DELETE", f"chats/{chat['id']}")
    await next_frame(alice_b, "chat_deleted", chat_id=chat["id"])
    # B handed alice's frames to its connections before bob's auth_ok: one for bob would be
    # ahead of it.
    await bob_b.expect_nothing_sent()

    theirs = await asyncio.to_thread(call, pair.a, BOB, "POST", "chats", {"title": "Bob's"})
    await next_frame(bob_b, "chat_created", chat_id=theirs["id"])
    await alice_b.expect_nothing_sent()


async def test_a_document_changed_or_removed_on_one_server_reaches_the_other_and_its_search(
    pair: Pair, connect: Connect
) -> None:
    await until_events_cross(pair, connect)
    on_b = await connect(pair.b, ALICE)
    notes = pair.a.root_dir / "savanna.md"

    async def index_on_a(text: str) -> dict[str, Any]:
        notes.write_text(text)
        document = await asyncio.to_thread(
            call, pair.a, ALICE, "POST", "documents", {"path": notes.name}
        )
        # B's socket hears the document ready: B dropped what it held of it by then.
        while True:
            frame = await next_frame(on_b, "library", event="updated")
            shown = frame["data"]["document"]
            if shown["id"] == document["id"] and shown["status"] == "ready":
                assert shown["sha256"] == document["sha256"]
                return shown

    def found_on_b(word: str) -> list[str]:
        results = call(pair.b, ALICE, "GET", f"search?q={word}")["results"]
        return [result["document_id"] for result in results]

    first = await index_on_a("# Grazing\n\nZebras graze the savanna grass at dawn.\n")
    assert await asyncio.to_thread(found_on_b, "zebras") == [first["id"]]  # B holds it now

    # Indexed again on A under the same id: B searches the new text, not what it held.
    second = await index_on_a("# Grazing\n\nOkapis browse the forest leaves at dusk.\n")
    assert second["id"] == first["id"]
    assert await asyncio.to_thread(found_on_b, "okapis") == [first["id"]]
    assert await asyncio.to_thread(found_on_b, "zebras") == []

    await asyncio.to_thread(call, pair.a, ALICE, "DELETE", f"documents/{first['id']}")
    await next_frame(on_b, "library", event="removed", document_id=first["id"])
    assert await asyncio.to_thread(found_on_b, "okapis") == []


async def test_a_frame_over_the_payload_limit_arrives_whole_on_the_other_server(
    pair: Pair, connect: Connect
) -> None:
    await until_events_cross(pair, connect)
    on_b = await connect(pair.b, ALICE)
    # Quotes, backslashes, accents and emoji grow when escaped: the parts must still fit.
    ids = [f'{n:03d} "é\\😀 {uuid.uuid4().hex}'.ljust(64, "😀") for n in range(400)]
    body = {"title": "Everything 📚", "scope": {"folder": None, "document_ids": ids}}
    chat = await asyncio.to_thread(call, pair.a, ALICE, "POST", "chats", body)

    created = await next_frame(on_b, "chat_created", chat_id=chat["id"])
    assert len(json.dumps(created).encode()) > 4 * PAYLOAD_LIMIT
    assert created["data"] == {"chat_id": chat["id"], **chat}
    assert created["data"]["scope"]["document_ids"] == ids


async def test_events_cross_again_after_the_database_restarts(pair: Pair, connect: Connect) -> None:
    await until_events_cross(pair, connect)
    await asyncio.to_thread(pair.cluster.stop)  # with start below: pg_ctl restart
    await asyncio.to_thread(pair.cluster.start)

    # B's listener comes back by itself, and so does A's: both directions cross again.
    await until_events_cross(pair, connect)
    on_a = await connect(pair.a, ALICE)
    chat = await asyncio.to_thread(call, pair.b, ALICE, "POST", "chats", {"title": "From B"})
    await next_frame(on_a, "chat_created", chat_id=chat["id"])

    for server in (pair.a, pair.b):
        log = server.log_path.read_text()
        lost = [line for line in log.splitlines() if "events from other servers on" in line]
        assert lost, log
        assert f"postgresql+psycopg://studymate:***@127.0.0.1:{pair.cluster.port}/" in lost[0]
        assert pair.cluster.password not in log


class Recording:
    """A connection as the hub sees it, keeping what it is sent."""

    stream_mode: StreamMode = "full"

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.frames: list[str] = []

    def send(self, frame: str, transient: bool = False) -> None:
        self.frames.append(frame)


async def test_a_frame_to_everyone_reaches_every_user_on_the_other_server_and_not_back(
    own_cluster: PostgresCluster,
) -> None:
    # No server sends to everyone yet (the course library will): its hubs, on their own.
    if not own_cluster.running:
        own_cluster.start()
    url = own_cluster.create_database().render_as_string(hide_password=False)
    here, there = Hub(), Hub()
    carol, alice, bob = Recording("carol"), Recording("alice"), Recording("bob")
    here.add(carol)
    there.add(alice)
    there.add(bob)
    forgotten: dict[str, list[str]] = {"here": [], "there": []}
    databases = [Database(url), Database(url)]
    events = [
        ServerEvents(databases[0], here, forgotten["here"].append),
        ServerEvents(databases[1], there, forgotten["there"].append),
    ]
    for each in events:
        each.start()
    try:
        frame = library_removed_frame("course-notes")
        sent = 0
        deadline = time.monotonic() + 30
        while not alice.frames:  # sent again until the other side listens
            assert time.monotonic() < deadline, "the frame never crossed"
            here.to_everyone(frame)
            sent += 1
            await asyncio.sleep(0.5)
        await asyncio.sleep(0.5)  # time for anything more to arrive
        assert set(carol.frames) == set(alice.frames) == set(bob.frames) == {frame}
        assert len(carol.frames) == sent  # here delivers it itself, and never hears it back
        assert len(alice.frames) == len(bob.frames) <= sent
        assert set(forgotten["there"]) == {"course-notes"}
        assert forgotten["here"] == []
    finally:
        for each in events:
            await each.stop()
        for database in databases:
            database.close()


async def test_a_listener_heard_again_after_a_loss_makes_search_read_every_document_again(
    own_cluster: PostgresCluster,
) -> None:
    # What other servers said meanwhile was missed: a document re-indexed there would go on
    # being searched here as it was.
    if not own_cluster.running:
        own_cluster.start()
    url = own_cluster.create_database()
    forgotten: list[str | None] = []
    database = Database(url.render_as_string(hide_password=False))
    events = ServerEvents(database, Hub(), forgotten.append)
    listeners = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND query LIKE 'LISTEN%'"
    )

    def cut_once_listening() -> None:
        with connect_database(url) as conn:
            deadline = time.monotonic() + 30
            while not conn.execute(listeners).fetchall():
                assert time.monotonic() < deadline, "the listener never connected"
                time.sleep(0.05)
            assert forgotten == []  # connecting the first time, nothing was missed
            conn.execute(f"SELECT pg_terminate_backend(pid) FROM ({listeners}) AS l")

    events.start()
    try:
        await asyncio.to_thread(cut_once_listening)
        deadline = time.monotonic() + 30
        while not forgotten:
            assert time.monotonic() < deadline, "the listener did not come back"
            await asyncio.sleep(0.05)
        assert forgotten == [None]
    finally:
        await events.stop()
        database.close()
