"""Replies stream to every subscriber, can be stopped, and belong to the chat."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fake_llm import FakeLLM

from studymate_jupyter.assistant.prompt import WITHOUT_MATERIAL
from studymate_jupyter.pytest_plugin import is_final_reply

PIECES = [f"word{n} " for n in range(60)]
# The library is empty: the model's reply starts by saying it is not from course material.
ANSWER = WITHOUT_MATERIAL + "".join(PIECES)
SHORT_ANSWER = WITHOUT_MATERIAL + "short answer"


@pytest.fixture
def llm():
    fake = FakeLLM(PIECES, delay=0.02)
    yield fake
    fake.close()


@pytest.fixture
def server_config(llm):
    return llm.config


def replies_in(frames):
    return [
        f["data"]["message"]
        for f in frames
        if f["type"] == "message" and f["data"]["message"]["role"] == "assistant"
    ]


async def test_a_streamed_reply_sends_at_most_about_20_frames_a_second(chat_ws):
    ws = await chat_ws()
    started = asyncio.get_running_loop().time()
    frames = await ws.reply_to("stream please")
    elapsed = asyncio.get_running_loop().time() - started
    replies = replies_in(frames)
    assert replies[-1]["content"] == ANSWER
    assert replies[-1]["status"] == "complete"
    # 60 pieces arrive over ~1.2 s; coalescing keeps it near 20 frames a second, not 60.
    assert len(replies) <= 20 * elapsed + 3
    assert len(replies) >= 3, "pieces are sent as they come, not all at the end"


async def test_stop_ends_the_reply_and_keeps_what_was_produced(chat_ws, llm):
    ws = await chat_ws()
    await ws.send("message", {"message": {"id": "q", "role": "user", "content": "go"}})
    frames = await ws.recv_until(
        lambda f: f["type"] == "message" and len(f["data"]["message"]["content"]) > 20
    )
    chat_id = frames[0]["data"]["chat_id"]
    await ws.send("stop", {"chat_id": chat_id})
    final = replies_in(await ws.recv_until(is_final_reply))[-1]
    assert final["status"] == "stopped"
    assert 20 < len(final["content"]) < len(ANSWER)

    await ws.send("load_messages", {"chat_id": chat_id})
    page = await ws.recv_until(lambda f: f["type"] == "messages")
    stored = page[-1]["data"]["messages"][-1]
    assert (stored["status"], stored["content"]) == ("stopped", final["content"])


async def test_the_seed_clients_new_chat_flow_still_sees_the_whole_reply(chat_ws):
    first = await chat_ws()
    await first.send("auth", {})
    await first.recv()
    await first.send("message", {"message": {"id": "m", "role": "user", "content": "hi"}})
    created = await first.recv()
    assert created["type"] == "chat_created"
    first.close()  # the seed client reconnects as soon as it learns the chat id

    second = await chat_ws()
    await second.send("auth", {"chat_id": created["data"]["chat_id"]})
    frames = await second.recv_until(is_final_reply)
    assert frames[0]["type"] == "auth_ok"
    assert replies_in(frames)[-1]["content"] == ANSWER


async def test_a_late_subscriber_gets_the_replys_current_state_at_once(chat_ws):
    asker = await chat_ws()
    await asker.send("message", {"message": {"id": "m", "role": "user", "content": "hi"}})
    frames = await asker.recv_until(
        lambda f: f["type"] == "message" and len(f["data"]["message"]["content"]) > 30
    )
    chat_id = frames[0]["data"]["chat_id"]
    late = await chat_ws()
    await late.send("auth", {"chat_id": chat_id})
    caught_up = [await late.recv() for _ in range(3)]
    assert [f["type"] for f in caught_up] == ["auth_ok", "typing", "message"]
    assert caught_up[1]["data"]["is_typing"] is True
    assert len(caught_up[2]["data"]["message"]["content"]) > 30
    assert caught_up[2]["data"]["message"]["status"] == "streaming"


async def test_messages_sent_during_a_reply_are_answered_in_order(chat_ws, llm):
    llm.pieces = ["short ", "answer"]
    ws = await chat_ws()
    await ws.send("message", {"message": {"id": "a", "role": "user", "content": "one"}})
    chat_id = (await ws.recv())["data"]["chat_id"]
    await ws.send(
        "message", {"chat_id": chat_id, "message": {"id": "b", "role": "user", "content": "two"}}
    )
    frames = await ws.recv_until(is_final_reply)
    frames += await ws.recv_until(is_final_reply)
    await ws.send("load_messages", {"chat_id": chat_id})
    page = (await ws.recv_until(lambda f: f["type"] == "messages"))[-1]
    messages = page["data"]["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["one", "two"]
    replies = [(m["reply_to"], m["content"]) for m in messages if m["role"] == "assistant"]
    assert replies == [("a", SHORT_ANSWER), ("b", SHORT_ANSWER)]
    asked = [r.messages[-1]["content"] for r in llm.completions]
    assert asked == ["one", "two"], "each reply answers its own message"


async def test_a_resent_message_id_is_echoed_but_not_stored_or_answered_twice(chat_ws, api, llm):
    llm.pieces = ["ok"]
    ws = await chat_ws()
    sent = {"id": uuid.uuid4().hex, "role": "user", "content": "once"}
    await ws.send("message", {"message": sent})
    frames = await ws.recv_until(is_final_reply)
    chat_id = frames[0]["data"]["chat_id"]
    await ws.recv_until(lambda f: f["type"] == "chat_updated")  # typing off, then unread: 1

    await ws.send("message", {"message": {**sent, "content": "changed"}, "chat_id": chat_id})
    echo = await ws.recv()
    assert echo["data"]["message"]["id"] == sent["id"]
    assert echo["data"]["message"]["content"] == "once"
    await ws.expect_silence()
    assert (await api(f"chats/{chat_id}"))["message_count"] == 2
    assert len(llm.completions) == 1


async def test_deleting_a_chat_mid_reply_ends_it_and_stores_nothing_more(chat_ws, api):
    ws = await chat_ws()
    await ws.send("message", {"message": {"id": "m", "role": "user", "content": "hi"}})
    chat_id = (await ws.recv())["data"]["chat_id"]
    await ws.recv_until(lambda f: f["type"] == "message" and f["data"]["message"]["content"])
    await api(f"chats/{chat_id}", method="DELETE")
    frames = await ws.recv_until(lambda f: f["type"] == "chat_deleted")
    assert not any(is_final_reply(f) for f in frames)
    await ws.expect_silence(0.5)
    assert (await api("chats"))["chats"] == []


async def test_a_client_that_asks_for_deltas_gets_only_new_text(chat_ws):
    ws = await chat_ws()
    await ws.send("auth", {"stream": "delta"})
    await ws.recv()
    await ws.send("message", {"message": {"id": "d", "role": "user", "content": "deltas"}})
    frames = await ws.recv_until(lambda f: f["type"] == "message_delta" and "status" in f["data"])
    start = [
        f for f in frames if f["type"] == "message" and f["data"]["message"]["role"] == "assistant"
    ]
    assert [f["data"]["message"]["content"] for f in start] == [""], "only the empty start is whole"
    content = ""
    deltas = [f["data"] for f in frames if f["type"] == "message_delta"]
    for delta in deltas:
        assert delta["offset"] == len(content), "each delta continues where the last one ended"
        content = content[: delta["offset"]] + delta["text"]
    assert content == ANSWER
    assert deltas[-1]["status"] == "complete"
    assert deltas[-1]["citations"] == []
    assert len(deltas) > 2


async def test_a_page_read_before_a_reply_was_stored_never_shows_it_streaming_after_its_end(
    chat_ws, jp_serverapp
):
    """A history page is read on a database thread while the reply may end: answered after
    the reply's final frame, it must not send the client back to a streaming reply that will
    never grow again (a reconnecting client would wait for it forever)."""
    db = jp_serverapp.extension_manager.extension_points["studymate"].app.services.chats.db
    ws = await chat_ws()
    await ws.send("message", {"message": {"id": "q", "role": "user", "content": "go"}})
    frames = await ws.recv_until(
        lambda f: f["type"] == "message" and f["data"]["message"]["role"] == "assistant"
    )
    chat_id = frames[0]["data"]["chat_id"]

    ended = asyncio.Event()
    read = db.read

    async def read_then_wait_for_the_end(fn):
        # The page is read now, mid-reply, and answered only once the reply has ended.
        result = await read(fn)
        db.read = read
        await ended.wait()
        return result

    db.read = read_then_wait_for_the_end
    other = await chat_ws()
    await other.send("load_messages", {"chat_id": chat_id})
    final = replies_in(await ws.recv_until(is_final_reply))[-1]
    assert final["status"] == "complete"
    ended.set()

    page = (await other.recv_until(lambda f: f["type"] == "messages"))[-1]
    stored = page["data"]["messages"][-1]
    assert (stored["id"], stored["status"]) == (final["id"], "complete")
    assert stored["content"] == ANSWER
