"""Around the conversation: reactions and feedback on messages, unread and read state, and
search over your own history, stored, owner-checked and live on every connection."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
import two_users
from library_calls import CALCULUS_MARKDOWN, add
from tornado.httpclient import HTTPClientError

from studymate_jupyter.pytest_plugin import ServerProcess
from studymate_jupyter.store import schema
from studymate_jupyter.store.db import Database
from studymate_jupyter.store.migrations import STEPS


async def ask(ws, text: str, chat_id: str | None = None) -> tuple[dict, dict]:
    """Send a question; its stored echo and its final reply."""
    frames = await ws.reply_to(text, chat_id=chat_id)
    messages = [f["data"]["message"] for f in frames if f["type"] == "message"]
    return messages[0], messages[-1]


async def next_of(ws, frame_type: str) -> dict:
    return (await ws.recv_until(lambda f: f["type"] == frame_type))[-1]["data"]


async def error_of(ws, frame_type: str, data: dict) -> str:
    await ws.send(frame_type, data)
    return (await next_of(ws, "error"))["code"]


class TestReactions:
    async def test_a_reaction_is_stored_and_reaches_every_connection_of_the_user(
        self, chat_ws, api
    ):
        ws, other = await chat_ws(), await chat_ws()
        _, reply = await ask(ws, "hello")
        chat_id = reply["chat_id"]
        await ws.send("react", {"chat_id": chat_id, "message_id": reply["id"], "emoji": "💡"})
        mine = await next_of(ws, "reaction")
        elsewhere = await next_of(other, "reaction")
        assert mine == elsewhere
        owner = (await api("me"))["user_id"]
        assert mine == {"chat_id": chat_id, "message_id": reply["id"], "reactions": {"💡": [owner]}}
        stored = (await api(f"chats/{chat_id}/messages"))["messages"]
        assert [m["reactions"] for m in stored] == [{}, {"💡": [owner]}]

    async def test_taking_a_reaction_off_leaves_the_others(self, chat_ws, api):
        ws = await chat_ws()
        question, _ = await ask(ws, "hello")
        ref = {"chat_id": question["chat_id"], "message_id": question["id"]}
        for emoji in ("👍", "🎉"):
            await ws.send("react", {**ref, "emoji": emoji})
            await next_of(ws, "reaction")
        await ws.send("react", {**ref, "emoji": "👍", "on": False})
        assert list((await next_of(ws, "reaction"))["reactions"]) == ["🎉"]
        await ws.send("load_messages", {"chat_id": ref["chat_id"]})
        page = await next_of(ws, "messages")
        assert list(page["messages"][0]["reactions"]) == ["🎉"]

    @pytest.mark.parametrize("emoji", ["x", "👍👍", "<b>", "🦄"])
    async def test_an_emoji_outside_the_set_is_a_bad_request_and_changes_nothing(
        self, chat_ws, api, emoji
    ):
        ws = await chat_ws()
        _, reply = await ask(ws, "hello")
        ref = {"chat_id": reply["chat_id"], "message_id": reply["id"]}
        assert await error_of(ws, "react", {**ref, "emoji": emoji}) == "bad_request"
        stored = (await api(f"chats/{reply['chat_id']}/messages"))["messages"]
        assert stored[-1]["reactions"] == {}

    async def test_a_sixth_different_emoji_on_one_message_is_refused(self, chat_ws):
        ws = await chat_ws()
        _, reply = await ask(ws, "hello")
        ref = {"chat_id": reply["chat_id"], "message_id": reply["id"]}
        for emoji in ("👍", "❤️", "🎉", "😄", "💡"):
            await ws.send("react", {**ref, "emoji": emoji})
            await next_of(ws, "reaction")
        assert await error_of(ws, "react", {**ref, "emoji": "✅"}) == "bad_request"

    async def test_an_unknown_message_or_chat_is_not_found(self, chat_ws):
        ws = await chat_ws()
        _, reply = await ask(ws, "hello")
        for ref in (
            {"chat_id": reply["chat_id"], "message_id": "nope"},
            {"chat_id": "nope", "message_id": reply["id"]},
        ):
            assert await error_of(ws, "react", {**ref, "emoji": "👍"}) == "not_found"


class TestFeedback:
    async def test_feedback_with_a_note_is_stored_and_reaches_every_connection(self, chat_ws, api):
        ws, other = await chat_ws(), await chat_ws()
        _, reply = await ask(ws, "hello")
        ref = {"chat_id": reply["chat_id"], "message_id": reply["id"]}
        await ws.send("feedback", {**ref, "rating": "down", "note": "  Too vague.  "})
        expected = {**ref, "feedback": {"rating": "down", "note": "Too vague."}}
        assert await next_of(ws, "feedback") == expected
        assert await next_of(other, "feedback") == expected
        stored = (await api(f"chats/{reply['chat_id']}/messages"))["messages"]
        assert [m["feedback"] for m in stored] == [None, {"rating": "down", "note": "Too vague."}]
        await ws.send("feedback", {**ref, "rating": None})
        assert (await next_of(ws, "feedback"))["feedback"] is None
        stored = (await api(f"chats/{reply['chat_id']}/messages"))["messages"]
        assert stored[-1]["feedback"] is None

    async def test_feedback_on_a_user_message_is_a_bad_request(self, chat_ws):
        ws = await chat_ws()
        question, _ = await ask(ws, "hello")
        ref = {"chat_id": question["chat_id"], "message_id": question["id"]}
        assert await error_of(ws, "feedback", {**ref, "rating": "up"}) == "bad_request"

    async def test_a_note_over_1000_characters_is_a_bad_request(self, chat_ws, api):
        ws = await chat_ws()
        _, reply = await ask(ws, "hello")
        ref = {"chat_id": reply["chat_id"], "message_id": reply["id"]}
        data = {**ref, "rating": "up", "note": "x" * 1001}
        assert await error_of(ws, "feedback", data) == "bad_request"
        stored = (await api(f"chats/{reply['chat_id']}/messages"))["messages"]
        assert stored[-1]["feedback"] is None

    async def test_the_export_carries_reactions_and_feedback(self, chat_ws, api, jp_fetch):
        ws = await chat_ws()
        _, reply = await ask(ws, "hello")
        ref = {"chat_id": reply["chat_id"], "message_id": reply["id"]}
        await ws.send("react", {**ref, "emoji": "🎉"})
        await next_of(ws, "reaction")
        await ws.send("feedback", {**ref, "rating": "up", "note": "Clear."})
        await next_of(ws, "feedback")
        path = ("studymate", "api", "chats", reply["chat_id"], "export")
        markdown = (await jp_fetch(*path)).body.decode()
        assert "Reactions: 🎉 1" in markdown
        assert "Your feedback: 👍 helpful: Clear." in markdown
        notebook = json.loads((await jp_fetch(*path, params={"format": "ipynb"})).body)
        meta = notebook["cells"][-1]["metadata"]["studymate"]
        assert meta["feedback"] == {"rating": "up", "note": "Clear."}
        assert list(meta["reactions"]) == ["🎉"]


class TestUnread:
    async def test_a_finished_reply_is_unread_everywhere_until_read_anywhere(self, chat_ws, api):
        ws, panel = await chat_ws(), await chat_ws()
        question, reply = await ask(ws, "hello")
        chat_id = reply["chat_id"]
        updated = await panel.recv_until(
            lambda f: f["type"] == "chat_updated" and f["data"]["unread"] == 1
        )
        assert updated[-1]["data"]["chat_id"] == chat_id
        [listed] = (await api("chats"))["chats"]
        assert (listed["unread"], listed["read_up_to"]) == (1, None)

        await panel.send("read", {"chat_id": chat_id, "message_id": reply["id"]})
        for connection in (panel, ws):
            read = await connection.recv_until(
                lambda f: f["type"] == "chat_updated" and f["data"]["unread"] == 0
            )
            assert read[-1]["data"]["read_up_to"] == reply["id"]
        [listed] = (await api("chats"))["chats"]
        assert (listed["unread"], listed["read_up_to"]) == (0, reply["id"])

        # Reading an older message moves nothing back.
        await panel.send("read", {"chat_id": chat_id, "message_id": question["id"]})
        again = (await panel.recv_until(lambda f: f["type"] == "chat_updated"))[-1]["data"]
        assert (again["unread"], again["read_up_to"]) == (0, reply["id"])

    async def test_replies_count_up_and_read_counts_only_those_after_it(self, chat_ws, api):
        ws = await chat_ws()
        _, first = await ask(ws, "one")
        chat_id = first["chat_id"]
        await ask(ws, "two", chat_id)
        await ask(ws, "three", chat_id)
        assert (await api(f"chats/{chat_id}"))["unread"] == 3
        await ws.send("read", {"chat_id": chat_id, "message_id": first["id"]})
        read = await ws.recv_until(
            lambda f: f["type"] == "chat_updated" and f["data"]["read_up_to"] == first["id"]
        )
        assert read[-1]["data"]["unread"] == 2

    async def test_read_naming_an_unknown_message_is_not_found(self, chat_ws):
        ws = await chat_ws()
        _, reply = await ask(ws, "hello")
        data = {"chat_id": reply["chat_id"], "message_id": "nope"}
        assert await error_of(ws, "read", data) == "not_found"


class TestSearch:
    async def test_finds_your_own_messages_newest_first_with_the_match_marked(
        self, chat_ws, api, jp_root_dir
    ):
        (jp_root_dir / "calculus.md").write_text(CALCULUS_MARKDOWN)
        await add(api, "calculus.md")
        ws = await chat_ws()
        _, first = await ask(ws, "What does the chain rule multiply?")
        _, second = await ask(ws, "Chain rule once more, <b>please</b>")
        found = await api("messages/search?q=chain rule")
        assert not found["has_more"]
        ids = [r["message_id"] for r in found["results"]]
        # Newest first; both questions and the answers that quote the rule.
        assert ids.index(second["reply_to"]) < ids.index(first["reply_to"])
        hit = next(r for r in found["results"] if r["message_id"] == second["reply_to"])
        assert hit["role"] == "user"
        assert hit["chat_title"] == "Chain rule once more, <b>please</b>"
        assert "<b>" not in hit["snippet"]
        assert [hit["snippet"][a:b].lower() for a, b in hit["marks"]] == ["chain", "rule"]

    async def test_the_last_word_also_matches_as_a_prefix(self, chat_ws, api):
        ws = await chat_ws()
        question, _ = await ask(ws, "Tell me about eigenvalues")
        found = await api("messages/search?q=eigenval")
        assert question["id"] in [r["message_id"] for r in found["results"]]

    async def test_narrows_to_one_chat_and_pages_with_has_more(self, chat_ws, api):
        ws = await chat_ws()
        question, _ = await ask(ws, "topology question")
        await ask(ws, "topology again")  # a chat of its own
        in_chat = await api(f"messages/search?q=topology&chat_id={question['chat_id']}")
        assert [r["message_id"] for r in in_chat["results"]] == [question["id"]]
        first = await api("messages/search?q=topology&limit=1")
        assert (len(first["results"]), first["has_more"]) == (1, True)

    @pytest.mark.parametrize(
        "query",
        ['"unbalanced', "AND OR NOT", "* ( ) ^ - : NEAR(a b)", "chain*", "'); DROP TABLE x;--"],
    )
    async def test_hostile_text_is_searched_as_words(self, chat_ws, api, query):
        ws = await chat_ws()
        await ask(ws, "the chain rule")
        found = await api("messages/search", params={"q": query})
        assert set(found) == {"results", "has_more"}

    async def test_a_limit_out_of_range_is_a_bad_request(self, api):
        with pytest.raises(HTTPClientError) as refused:
            await api("messages/search?q=x&limit=51")
        assert refused.value.code == 400

    async def test_a_chat_that_is_not_yours_is_not_found(self, api):
        with pytest.raises(HTTPClientError) as refused:
            await api("messages/search?q=x&chat_id=nope")
        assert refused.value.code == 404


class TestTwoUsers:
    @pytest.fixture
    def jp_server_config(self, studymate_db_url):
        return two_users.server_config(studymate_db_url)

    async def test_another_users_messages_cannot_be_found_reacted_to_or_read(
        self, chat_ws, jp_fetch
    ):
        alice = await chat_ws(headers={"Authorization": "token alice-token"})
        bob = await chat_ws(headers={"Authorization": "token bob-token"})
        _, reply = await ask(alice, "alice's secret topology notes")
        ref = {"chat_id": reply["chat_id"], "message_id": reply["id"]}
        assert await error_of(bob, "react", {**ref, "emoji": "👍"}) == "not_found"
        assert await error_of(bob, "feedback", {**ref, "rating": "down"}) == "not_found"
        assert await error_of(bob, "read", ref) == "not_found"

        async def search(user: str) -> list[str]:
            response = await jp_fetch(
                "studymate",
                "api",
                "messages",
                "search",
                params={"q": "topology"},
                headers={"Authorization": f"token {user}-token"},
            )
            return [r["message_id"] for r in json.loads(response.body)["results"]]

        assert await search("bob") == []
        assert reply["reply_to"] in await search("alice")
        await alice.send("load_messages", {"chat_id": reply["chat_id"]})
        page = await next_of(alice, "messages")
        assert [m["reactions"] for m in page["messages"]] == [{}, {}]
        assert [m["feedback"] for m in page["messages"]] == [None, None]


async def test_reactions_feedback_and_read_state_survive_a_restart(tmp_path):
    server = ServerProcess(tmp_path)
    await asyncio.to_thread(server.start)
    try:
        ws = await server.connect()
        _, reply = await ask(ws, "keep my reaction")
        ref = {"chat_id": reply["chat_id"], "message_id": reply["id"]}
        await ws.send("react", {**ref, "emoji": "✅"})
        await next_of(ws, "reaction")
        await ws.send("feedback", {**ref, "rating": "up"})
        await next_of(ws, "feedback")
        await ws.send("read", ref)
        await ws.recv_until(lambda f: f["type"] == "chat_updated" and f["data"]["unread"] == 0)
        ws.close()
        await asyncio.to_thread(server.restart)
        [chat] = server.get("studymate/api/chats")["chats"]
        assert (chat["unread"], chat["read_up_to"]) == (0, reply["id"])
        stored = server.get(f"studymate/api/chats/{reply['chat_id']}/messages")["messages"][-1]
        assert list(stored["reactions"]) == ["✅"]
        assert stored["feedback"] == {"rating": "up", "note": None}
        found = server.get("studymate/api/messages/search?q=reaction")["results"]
        assert reply["reply_to"] in [r["message_id"] for r in found]
    finally:
        await asyncio.to_thread(server.stop)


def test_an_older_database_upgrades_with_its_history_read_and_searchable(tmp_path):
    path = tmp_path / "studymate.db"
    # A database as the release before read state and search left it (schema version 6).
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE studymate_schema (version INTEGER NOT NULL)")
        for version, statements in enumerate(STEPS[:6], start=1):
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO studymate_schema (version) VALUES (?)", (version,))
        conn.execute(
            "INSERT INTO chats (id, user_id, title, created_at, updated_at, message_count) "
            "VALUES ('c', 'me', 'Old chat', 't', 't', 2)"
        )
        conn.executemany(
            "INSERT INTO messages (id, user_id, chat_id, role, content, status, created_at) "
            "VALUES (?, 'me', 'c', ?, ?, 'complete', 't')",
            [("q", "user", "What is a monoid?"), ("a", "assistant", "A monoid has a unit.")],
        )
    db = Database(f"sqlite:///{path}", synchronous="NORMAL", busy_timeout_ms=5000)
    try:
        assert db.schema_version == int(schema.HEAD)
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT unread, read_up_to FROM chats").fetchone() == (0, "a")
            found = conn.execute(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'monoid'"
            ).fetchall()
        assert len(found) == 2
    finally:
        db.close()
