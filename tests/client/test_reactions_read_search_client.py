"""The Python client around the conversation, against real `jupyter server` subprocesses:
reactions and feedback (live to the user's other clients, kept across restarts and streamed
frames), unread counts and reads, and searching one's own messages."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_llm import FakeLLM
from waiting import until

from studymate_jupyter.client import Backoff, StudyMateClient, StudyMateError
from studymate_jupyter.client.local import LocalClient
from studymate_jupyter.protocol import FeedbackEventData, ReactionData
from studymate_jupyter.pytest_plugin import ServerProcess

FAST = Backoff(base=0.05, maximum=0.3)
TESTS = Path(__file__).parents[1]
HOSTILE_QUERY = 'AND OR NOT * ( ) " NEAR'


def client_for(
    server: ServerProcess, token: str | None = None, **kwargs: object
) -> StudyMateClient:
    return StudyMateClient(server.url, token or server.token, backoff=FAST, **kwargs)  # type: ignore[arg-type]


def held(client: StudyMateClient, message_id: str) -> dict[str, object]:
    return dict(next(m for m in client.messages if m["id"] == message_id))


async def test_a_reaction_and_a_rating_come_back_stored_and_reach_the_users_other_client(
    library_server: ServerProcess,
) -> None:
    alice = client_for(library_server)
    await alice.connect()
    other = None
    try:
        reply = await alice.send("What is an eigenvalue?", timeout=30)
        other = client_for(library_server, chat_id=alice.chat_id)
        reactions: list[ReactionData] = []
        ratings: list[FeedbackEventData] = []
        other.on_reaction.connect(reactions.append)
        other.on_feedback.connect(ratings.append)
        await other.connect()
        assert held(other, reply["id"])["reactions"] == {}

        me = alice.user_id
        assert await alice.react(reply["id"], "💡") == {"💡": [me]}
        assert await alice.react(reply["id"], "🎉") == {"💡": [me], "🎉": [me]}
        assert await alice.react(reply["id"], "💡", on=False) == {"🎉": [me]}
        rated = await alice.feedback(reply["id"], "down", "Too short: say what A v means")
        assert rated == {"rating": "down", "note": "Too short: say what A v means"}

        assert held(alice, reply["id"])["reactions"] == {"🎉": [me]}
        assert held(alice, reply["id"])["feedback"] == rated
        await until(lambda: len(ratings) == 1, what="the rating on the other client")
        assert [r["reactions"] for r in reactions] == [
            {"💡": [me]},
            {"💡": [me], "🎉": [me]},
            {"🎉": [me]},
        ]
        assert held(other, reply["id"])["reactions"] == {"🎉": [me]}
        assert held(other, reply["id"])["feedback"] == rated

        assert await alice.feedback(reply["id"], None) is None
        await until(lambda: held(other, reply["id"])["feedback"] is None, what="taken back")
        stored = (await alice.get_messages(reply["chat_id"]))["messages"][-1]
        assert (stored["reactions"], stored["feedback"]) == ({"🎉": [me]}, None)
    finally:
        await alice.close()
        if other is not None:
            await other.close()


async def test_what_the_server_refuses_is_raised_and_changes_nothing(
    library_server: ServerProcess,
) -> None:
    client = client_for(library_server)
    await client.connect()
    try:
        reply = await client.send("What is a determinant?", timeout=30)
        question = client.messages[0]
        with pytest.raises(StudyMateError) as outside_the_set:
            await client.react(reply["id"], "🐍")
        assert outside_the_set.value.code == "bad_request"
        with pytest.raises(StudyMateError) as on_a_question:
            await client.feedback(question["id"], "up")
        assert on_a_question.value.code == "bad_request"
        with pytest.raises(StudyMateError) as unknown:
            await client.react("no-such-message", "👍")
        assert unknown.value.code == "not_found"
        # The connection goes on answering.
        assert await client.react(reply["id"], "👍") == {"👍": [client.user_id]}
        stored = (await client.get_messages(reply["chat_id"]))["messages"]
        assert [m["reactions"] for m in stored] == [{}, {"👍": [client.user_id]}]
        assert [m["feedback"] for m in stored] == [None, None]
    finally:
        await client.close()


async def test_reactions_and_feedback_are_there_again_after_the_server_restarts(
    library_server: ServerProcess,
) -> None:
    client = client_for(library_server)
    await client.connect()
    try:
        reply = await client.send("What is an eigenvalue?", timeout=30)
        await client.react(reply["id"], "✅")
        await client.feedback(reply["id"], "up", "clear")
    finally:
        await client.close()
    await asyncio.to_thread(library_server.restart)

    reopened = client_for(library_server, chat_id=reply["chat_id"])
    await reopened.connect()
    try:
        again = held(reopened, reply["id"])
        assert again["reactions"] == {"✅": [reopened.user_id]}
        assert again["feedback"] == {"rating": "up", "note": "clear"}
    finally:
        await reopened.close()


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[ServerProcess]:
    llm = FakeLLM([f"piece{n} " for n in range(40)], delay=0.05)
    server = ServerProcess(tmp_path, extra_args=llm.args)
    yield server
    server.stop()
    llm.close()


async def test_a_reaction_on_a_streaming_reply_stays_as_its_later_frames_arrive(
    slow_server: ServerProcess,
) -> None:
    await asyncio.to_thread(slow_server.start)
    client = client_for(slow_server)
    await client.connect()
    try:
        reply = client.post("Talk for a while")
        async for state in reply.updates():
            if "piece2" in state["content"]:
                assert await client.react(state["id"], "👀") == {"👀": [client.user_id]}
                break
        final = await asyncio.wait_for(reply, 30)
        assert final["status"] == "complete"
        # The later frames carry no reactions: the client kept what it had.
        mine = held(client, final["id"])
        assert mine["status"] == "complete"
        assert mine["reactions"] == {"👀": [client.user_id]}
    finally:
        await client.close()


async def test_unread_rises_as_a_reply_ends_in_another_chat_and_a_read_elsewhere_clears_it(
    library_server: ServerProcess,
) -> None:
    watching = client_for(library_server)
    await watching.connect()
    elsewhere = client_for(library_server)
    await elsewhere.connect()
    try:
        await watching.send("What is an eigenvalue?", timeout=30)
        chats = await watching.list_chats()
        assert [(c["unread"], c["id"]) for c in chats] == [(1, watching.chat_id)]

        reply = await elsewhere.send("What is a determinant?", timeout=30)
        other_chat = reply["chat_id"]
        assert other_chat != watching.chat_id
        await until(
            lambda: (watching.chat(other_chat) or {}).get("unread") == 1,
            what="the reply in the other chat counted as unread",
        )
        assert watching.chat(other_chat)["read_up_to"] is None  # type: ignore[index]

        read = await elsewhere.mark_read(reply["id"])
        assert (read["unread"], read["read_up_to"]) == (0, reply["id"])
        await until(
            lambda: (watching.chat(other_chat) or {}).get("unread") == 0,
            what="the read from the other connection",
        )
        assert watching.chat(other_chat)["read_up_to"] == reply["id"]  # type: ignore[index]
        assert [c["id"] for c in watching.chats] == [other_chat, watching.chat_id]
        # Reading an older message than the newest read changes nothing.
        question = elsewhere.messages[0]
        assert (await elsewhere.mark_read(question["id"]))["read_up_to"] == reply["id"]
    finally:
        await watching.close()
        await elsewhere.close()


@pytest.fixture
def two_user_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    """A server whose identity provider names alice and bob by their tokens."""
    path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    server = ServerProcess(
        tmp_path, extra_args=["--ServerApp.identity_provider_class=two_users.TwoUsers"]
    )
    server.token = "alice-token"  # the server's own readiness check asks as alice
    server.start()
    yield server
    server.stop()


async def test_search_finds_an_old_message_of_ones_own_and_never_another_users(
    two_user_server: ServerProcess,
) -> None:
    alice = client_for(two_user_server, "alice-token")
    bob = client_for(two_user_server, "bob-token")
    await alice.connect()
    await bob.connect()
    try:
        old = await alice.send("How do quaternions encode rotations?", timeout=30)
        quaternion_chat = alice.chat_id
        alice.new_chat()
        for n in range(4):
            await alice.send(f"Newer question number {n} about matrices", timeout=30)
        await bob.send("My own notes on quaternions", timeout=30)

        page = await alice.search_messages("quatern")
        assert page["has_more"] is False
        [found] = [r for r in page["results"] if r["role"] == "user"]
        assert found["message_id"] == old["reply_to"]
        assert found["chat_id"] == quaternion_chat
        assert found["chat_title"].startswith("How do quaternions")
        start, end = found["marks"][0]
        assert found["snippet"][start:end].lower() == "quaternions"
        assert all(r["chat_id"] == quaternion_chat for r in page["results"])

        narrowed = await alice.search_messages("question", chat_id=alice.chat_id, limit=2)
        assert len(narrowed["results"]) == 2
        assert narrowed["has_more"] is True
        assert all(r["chat_id"] == alice.chat_id for r in narrowed["results"])

        bobs = await bob.search_messages("quaternions")
        assert [r["chat_id"] for r in bobs["results"]] == [bob.chat_id]
        assert {r["message_id"] for r in bobs["results"]}.isdisjoint(
            r["message_id"] for r in page["results"]
        )
        with pytest.raises(StudyMateError) as not_yours:
            await bob.search_messages("quaternions", chat_id=quaternion_chat)
        assert not_yours.value.code == "not_found"
    finally:
        await alice.close()
        await bob.close()


async def test_any_query_text_answers_with_results_or_none_never_an_error(
    library_server: ServerProcess,
) -> None:
    client = client_for(library_server)
    await client.connect()
    try:
        await client.send("Does NEAR mean anything here?", timeout=30)
        for query in (HOSTILE_QUERY, "", "   ", '"', "*", "near)", "NEAR(a b)"):
            page = await client.search_messages(query)
            assert set(page) == {"results", "has_more"}, query
        assert (await client.search_messages(""))["results"] == []
        hits = await client.search_messages(HOSTILE_QUERY)
        # Searched as the words it has: the one message with all of them, or none.
        assert all(r["chat_id"] == client.chat_id for r in hits["results"])
    finally:
        await client.close()


async def test_an_in_process_client_reacts_reads_and_searches_through_the_services(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    client = LocalClient(root, db_url=f"sqlite:///{tmp_path / 'studymate.db'}")
    await client.connect()
    try:
        reply = await client.send("What do pivots say about a matrix?", timeout=30)
        assert await client.react(reply["id"], "🤔") == {"🤔": [client.user_id]}
        assert await client.feedback(reply["id"], "up") == {"rating": "up", "note": None}
        assert (await client.mark_read(reply["id"]))["unread"] == 0
        page = await client.search_messages("pivots")
        assert [r["role"] for r in page["results"]][-1:] == ["user"]
        assert page["results"][-1]["message_id"] == reply["reply_to"]
        assert held(client, reply["id"])["reactions"] == {"🤔": [client.user_id]}
    finally:
        await client.close()
