"""The seed document's conversation, frame by frame, through a real jupyter-server."""

from __future__ import annotations

import asyncio
import uuid

from studymate_jupyter.assistant.extractive import EMPTY_LIBRARY
from studymate_jupyter.chat import service
from studymate_jupyter.pytest_plugin import is_final_reply


def user_message(text: str, message_id: str | None = None) -> dict[str, str]:
    return {"id": message_id or uuid.uuid4().hex, "role": "user", "content": text}


async def test_auth_is_answered_with_the_servers_user_id(chat_ws, api):
    me = await api("me")
    ws = await chat_ws()
    await ws.send("auth", {"user_id": me["user_id"]})
    frame = await ws.recv()
    assert frame == {"type": "auth_ok", "data": {"user_id": me["user_id"]}}


async def test_a_first_message_creates_a_chat_then_is_echoed_then_answered(chat_ws, api):
    me = await api("me")
    ws = await chat_ws()
    sent = user_message("What is a derivative?")
    await ws.send("message", {"message": sent, "user_id": me["user_id"]})
    frames = await ws.recv_until(is_final_reply)

    kinds = [f["type"] for f in frames]
    assert kinds[0] == "chat_created"
    chat_id = frames[0]["data"]["chat_id"]
    assert frames[0]["data"]["title"] == "What is a derivative?"

    echo = frames[1]
    assert echo["type"] == "message"
    assert echo["data"]["chat_id"] == chat_id
    assert echo["data"]["user_id"] == me["user_id"]
    assert echo["data"]["message"]["id"] == sent["id"]
    assert echo["data"]["message"]["content"] == sent["content"]
    assert echo["data"]["message"]["timestamp"].endswith("Z")

    assert frames[2]["type"] == "typing"
    assert frames[2]["data"] == {
        "user_id": "assistant",
        "role": "assistant",
        "chat_id": chat_id,
        "is_typing": True,
    }
    replies = [f["data"]["message"] for f in frames[3:] if f["type"] == "message"]
    assert len({r["id"] for r in replies}) == 1, "the reply streams under one id"
    lengths = [len(r["content"]) for r in replies]
    assert lengths == sorted(lengths), "the content only grows"
    final = replies[-1]
    assert final["status"] == "complete"
    assert final["content"] == EMPTY_LIBRARY
    assert final["citations"] == [], "with an empty library nothing is cited"

    typing_off = await ws.recv()
    assert typing_off["type"] == "typing"
    assert typing_off["data"]["is_typing"] is False


async def test_load_messages_returns_the_history_oldest_first(chat_ws):
    ws = await chat_ws()
    frames = await ws.reply_to("first question")
    chat_id = frames[0]["data"]["chat_id"]
    await ws.after_reply()
    await ws.reply_to("second question", chat_id=chat_id)
    await ws.after_reply()

    await ws.send("load_messages", {"chat_id": chat_id})
    page = await ws.recv()
    assert page["type"] == "messages"
    assert page["data"]["chat_id"] == chat_id
    assert page["data"]["has_more"] is False
    contents = [(m["role"], m["content"]) for m in page["data"]["messages"]]
    assert contents == [
        ("user", "first question"),
        ("assistant", EMPTY_LIBRARY),
        ("user", "second question"),
        ("assistant", EMPTY_LIBRARY),
    ]


async def test_typing_reaches_the_other_connections_of_the_chat_but_not_the_sender(chat_ws):
    first = await chat_ws()
    frames = await first.reply_to("hello")
    chat_id = frames[0]["data"]["chat_id"]
    await first.after_reply()
    second = await chat_ws()
    await second.send("auth", {"chat_id": chat_id})
    assert (await second.recv())["type"] == "auth_ok"

    await first.send("typing", {"chat_id": chat_id, "is_typing": True})
    frame = await second.recv()
    assert frame["type"] == "typing"
    assert frame["data"]["chat_id"] == chat_id
    assert frame["data"]["role"] == "user"
    assert frame["data"]["is_typing"] is True
    await first.expect_nothing_sent()  # the second tab has it: an echo would be here by now


async def test_typing_without_a_chat_is_ignored(chat_ws):
    ws = await chat_ws()
    await ws.send("typing", {"is_typing": True})
    await ws.expect_nothing_sent()


async def test_a_message_in_one_tab_appears_in_the_other(chat_ws):
    first = await chat_ws()
    frames = await first.reply_to("hello")
    chat_id = frames[0]["data"]["chat_id"]
    second = await chat_ws()
    await second.send("load_messages", {"chat_id": chat_id})
    assert (await second.recv())["type"] == "messages"

    sent = user_message("from the first tab")
    await first.send("message", {"message": sent, "chat_id": chat_id})
    frames = await second.recv_until(is_final_reply)
    echoed = [f["data"]["message"]["id"] for f in frames if f["type"] == "message"]
    assert echoed[0] == sent["id"]


async def test_every_connection_of_the_user_hears_chat_created_updated_and_deleted(chat_ws, api):
    sender = await chat_ws()
    listener = await chat_ws()
    frames = await sender.reply_to("a brand new chat")
    chat_id = frames[0]["data"]["chat_id"]
    created = await listener.recv()
    assert created["type"] == "chat_created"
    assert created["data"]["chat_id"] == chat_id

    replied = await listener.recv()
    assert (replied["type"], replied["data"]["unread"]) == ("chat_updated", 1)

    await api(f"chats/{chat_id}", method="PATCH", body={"title": "Calculus"})
    updated = await listener.recv()
    assert updated["type"] == "chat_updated"
    assert updated["data"]["title"] == "Calculus"

    await api(f"chats/{chat_id}", method="DELETE")
    deleted = await listener.recv()
    assert deleted == {"type": "chat_deleted", "data": {"chat_id": chat_id}}


async def test_chat_lists_hear_of_new_messages_in_one_coalesced_update(chat_ws, api):
    chat = await api("chats", method="POST", body={"title": "busy"})
    listener = await chat_ws()
    sender = await chat_ws()
    for n in range(3):
        await sender.send(
            "message",
            {"chat_id": chat["id"], "message": {"id": f"m{n}", "role": "user", "content": "hi"}},
        )
    frames = await listener.recv_until(lambda f: f["type"] == "chat_updated")
    assert frames[-1]["data"]["chat_id"] == chat["id"]
    assert frames[-1]["data"]["message_count"] >= 3
    await asyncio.sleep(service.UPDATE_DELAY + 0.2)
    updates = [f for f in listener.seen if f["type"] == "chat_updated"]
    assert len(updates) <= 2, "three messages make one update (two at a timer's edge)"
