"""Every student's server on the hub stores in the one database the hub hands it, and each
student sees only their own chats there."""

from __future__ import annotations

import uuid

from hub_process import STUDENTS, HubProcess, stored_messages

from studymate_jupyter.pytest_plugin import ChatClient, Frame, is_final_reply


def chat_of(frames: list[Frame]) -> str:
    return str(next(f for f in frames if f["type"] == "chat_created")["data"]["chat_id"])


async def ask(client: ChatClient, text: str, chat_id: str | None = None) -> list[Frame]:
    """Ask in a chat (a new one without chat_id) and wait for the reply's final state."""
    frames = await client.reply_to(text, chat_id)
    assert is_final_reply(frames[-1])
    return frames


def history(hub: HubProcess, name: str, chat_id: str) -> list[tuple[str, str]]:
    status, page = hub.studymate(name, "GET", f"chats/{chat_id}/messages?limit=500")
    assert status == 200, page
    return [(m["role"], m["content"]) for m in page["messages"] if m["role"] == "user"]


async def test_two_students_chat_apart_in_one_database_and_keep_it_over_a_restart(
    hub: HubProcess,
):
    chats: dict[str, str] = {}
    asked: dict[str, list[str]] = {}
    for name in STUDENTS:
        client = await hub.connect(name)
        asked[name] = [f"{name} asks {n} {uuid.uuid4().hex}" for n in range(3)]
        chats[name] = chat_of(await ask(client, asked[name][0]))
        for text in asked[name][1:]:
            await ask(client, text, chats[name])
    bob, carol = STUDENTS

    # Both servers wrote to the hub's one database, each message under its hub user.
    for name in STUDENTS:
        rows = stored_messages(hub.db_url, chats[name])
        assert [role for _, _, role in rows] == ["user", "assistant"] * 3
        assert {user for _, user, _ in rows} == {name}
    # The URL came from the environment: no server fell back to a SQLite file of its own.
    assert not list((hub.workdir / "home").rglob("studymate.db"))

    # Neither sees the other's chat: not listed, its history absent (404), over REST...
    for name, other in ((bob, carol), (carol, bob)):
        _, listed = hub.studymate(name, "GET", "chats")
        assert chats[other] not in [chat["id"] for chat in listed["chats"]]
        status, answer = hub.studymate(name, "GET", f"chats/{chats[other]}/messages")
        assert (status, answer["code"]) == (404, "not_found")
        # ... and over the WebSocket, where it is not_found and writing to it stores nothing.
        client = await hub.connect(name)
        await client.send("load_messages", {"chat_id": chats[other]})
        frame = await client.recv()
        assert (frame["type"], frame["data"]["code"]) == ("error", "not_found")
        intruder = {"id": uuid.uuid4().hex, "role": "user", "content": "let me in"}
        await client.send("message", {"chat_id": chats[other], "message": intruder})
        frame = await client.recv()
        assert (frame["type"], frame["data"]["code"]) == ("error", "not_found")
    for name in STUDENTS:
        assert len(stored_messages(hub.db_url, chats[name])) == 6

    # Both histories are whole after the hub restarts both servers.
    for name in STUDENTS:
        hub.stop_server(name)
    hub.start_servers(STUDENTS)
    for name in STUDENTS:
        assert history(hub, name, chats[name]) == [("user", text) for text in asked[name]]
        client = await hub.connect(name)
        await client.send("load_messages", {"chat_id": chats[name]})
        frame = await client.recv()
        assert frame["type"] == "messages"
        messages = frame["data"]["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"] * 3
        assert all(m["status"] == "complete" for m in messages if m["role"] == "assistant")
