"""Bad frames get an error with a stable code, change nothing, and leave the socket usable."""

from __future__ import annotations

import json
import logging
import uuid
from contextlib import suppress

import pytest
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError


@pytest.fixture
def studymate_config():
    return {"max_content_bytes": 1000, "rate_limit": 20.0, "rate_burst": 30}


async def assert_still_usable(ws) -> None:
    await ws.send("auth", {})
    assert (await ws.recv())["type"] == "auth_ok"


def message(content: str = "hi", **fields) -> dict:
    return {"id": uuid.uuid4().hex, "role": "user", "content": content, **fields}


BAD_FRAMES = {
    "not JSON": "{not json",
    "a JSON array": "[1, 2]",
    "no type": json.dumps({"data": {}}),
    "an unknown type": json.dumps({"type": "launch_missiles", "data": {}}),
    "a message without data": json.dumps({"type": "message"}),
    "a message without content": json.dumps(
        {"type": "message", "data": {"message": {"id": "m1", "role": "user"}}}
    ),
    "a message without id": json.dumps(
        {"type": "message", "data": {"message": {"role": "user", "content": "x"}}}
    ),
    "a message posing as the assistant": json.dumps(
        {"type": "message", "data": {"message": {"id": "m2", "role": "assistant", "content": "x"}}}
    ),
    "content that is a number": json.dumps(
        {"type": "message", "data": {"message": {"id": "m3", "role": "user", "content": 5}}}
    ),
    "is_typing as a string": json.dumps(
        {"type": "typing", "data": {"chat_id": "c", "is_typing": "true"}}
    ),
    "load_messages without chat_id": json.dumps({"type": "load_messages", "data": {}}),
    "a limit over 500": json.dumps(
        {"type": "load_messages", "data": {"chat_id": "c", "limit": 501}}
    ),
    "a chat_id that is an object": json.dumps({"type": "stop", "data": {"chat_id": {"$ne": None}}}),
    "empty content": json.dumps(
        {"type": "message", "data": {"message": {"id": "m4", "role": "user", "content": "  "}}}
    ),
}


@pytest.mark.parametrize("raw", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
async def test_a_malformed_frame_gets_bad_request_and_stores_nothing(chat_ws, api, raw):
    ws = await chat_ws()
    await ws.send_raw(raw)
    frame = await ws.recv()
    assert frame["type"] == "error"
    assert frame["data"]["code"] == "bad_request"
    assert frame["data"]["message"]
    assert (await api("chats"))["chats"] == []
    await assert_still_usable(ws)


async def test_error_messages_never_echo_the_input_or_a_traceback(chat_ws):
    ws = await chat_ws()
    await ws.send_raw(json.dumps({"type": "typing", "data": {"is_typing": "SECRET-VALUE"}}))
    frame = await ws.recv()
    assert "SECRET-VALUE" not in json.dumps(frame)
    assert "Traceback" not in json.dumps(frame)
    assert "data.is_typing" in frame["data"]["message"]


async def test_content_over_the_limit_is_too_large_and_names_the_message(chat_ws, api):
    ws = await chat_ws()
    sent = message("x" * 1001)
    await ws.send("message", {"message": sent})
    frame = await ws.recv()
    assert frame["type"] == "error"
    assert frame["data"]["code"] == "too_large"
    assert frame["data"]["ref"] == sent["id"]
    assert (await api("chats"))["chats"] == []
    await assert_still_usable(ws)


async def test_a_frame_over_the_hard_websocket_limit_closes_with_1009(chat_ws):
    ws = await chat_ws()
    # The server may close while the frame is still being written.
    with suppress(WebSocketClosedError, StreamClosedError):
        await ws.send_raw("x" * (10 * 1024 * 1024 + 1))
    assert await ws.conn.read_message() is None
    assert ws.conn.close_code == 1009


async def test_another_user_id_in_auth_is_forbidden(chat_ws):
    ws = await chat_ws()
    await ws.send("auth", {"user_id": "someone-else"})
    frame = await ws.recv()
    assert frame["type"] == "error"
    assert frame["data"]["code"] == "forbidden"
    await assert_still_usable(ws)


async def test_another_user_id_in_a_message_is_forbidden_and_stores_nothing(chat_ws, api):
    ws = await chat_ws()
    sent = message("hijack")
    await ws.send("message", {"message": sent, "user_id": "someone-else"})
    frame = await ws.recv()
    assert frame["data"]["code"] == "forbidden"
    assert frame["data"]["ref"] == sent["id"]
    assert (await api("chats"))["chats"] == []


async def test_an_unknown_chat_is_not_found_on_every_frame(chat_ws):
    ws = await chat_ws()
    for frame_type, data in [
        ("auth", {"chat_id": "nope"}),
        ("message", {"message": message(), "chat_id": "nope"}),
        ("typing", {"chat_id": "nope", "is_typing": True}),
        ("load_messages", {"chat_id": "nope"}),
        ("stop", {"chat_id": "nope"}),
    ]:
        await ws.send(frame_type, data)
        frame = await ws.recv()
        assert frame["type"] == "error", frame_type
        assert frame["data"]["code"] == "not_found", frame_type


async def test_a_flood_is_rate_limited_without_closing_the_connection(chat_ws):
    ws = await chat_ws()
    for _ in range(60):
        await ws.send("typing", {"is_typing": True})
    frame = await ws.recv()
    assert frame == {
        "type": "error",
        "data": {"code": "rate_limited", "message": "too many frames; slow down"},
    }
    other = await chat_ws()
    await assert_still_usable(other)


async def test_no_traceback_or_token_reaches_the_log(chat_ws, jp_serverapp, caplog):
    caplog.set_level(logging.DEBUG)
    ws = await chat_ws()
    for raw in BAD_FRAMES.values():
        await ws.send_raw(raw)
        await ws.recv()
    text = caplog.text
    assert "Traceback" not in text
    assert jp_serverapp.identity_provider.token not in text


async def test_a_closed_socket_does_not_disturb_the_server(chat_ws):
    ws = await chat_ws()
    ws.close()
    with pytest.raises(WebSocketClosedError):
        await ws.send("auth", {})
    other = await chat_ws()
    await assert_still_usable(other)
