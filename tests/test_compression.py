"""permessage-deflate on /ws/chat: negotiated with bounded windows when a client offers it,
off when the setting says so, and no way around the message size limit."""

from __future__ import annotations

from contextlib import suppress

import pytest
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError
from traitlets import TraitError

from studymate_jupyter.app import StudyMate
from studymate_jupyter.handlers.socket import agree_deflate

EXTENSIONS = "Sec-WebSocket-Extensions"
BOUNDED = "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
# Tornado's client offers "permessage-deflate; client_max_window_bits", as browsers do.
OFFER = {"compression_options": {}}


def agreed(ws) -> set[str]:
    """The extension and parameters the server's answer names, in any order."""
    return {part.strip() for part in ws.conn.headers[EXTENSIONS].split(";")}


def bounded(bits: int) -> set[str]:
    return {
        "permessage-deflate",
        f"server_max_window_bits={bits}",
        f"client_max_window_bits={bits}",
    }


def wire_bytes_in(ws) -> int:
    """Bytes the client read off the socket for its frames, before inflating them."""
    return int(ws.conn.protocol._wire_bytes_in)


async def test_a_client_that_offers_compression_gets_it_with_4_kib_windows_both_ways(chat_ws):
    ws = await chat_ws(**OFFER)
    assert agreed(ws) == bounded(12)
    await ws.send("auth", {})
    assert (await ws.recv())["type"] == "auth_ok"


async def test_a_client_that_does_not_offer_compression_gets_none(chat_ws):
    ws = await chat_ws()
    assert EXTENSIONS not in ws.conn.headers


@pytest.mark.parametrize("studymate_config", [{"compression": False}])
async def test_with_compression_off_an_offer_is_declined_and_the_chat_still_works(chat_ws):
    ws = await chat_ws(**OFFER)
    assert EXTENSIONS not in ws.conn.headers
    frames = await ws.reply_to("what is a derivative?")
    assert frames[-1]["data"]["message"]["status"] == "complete"


@pytest.mark.parametrize("studymate_config", [{"compression_window_bits": 10}])
async def test_the_window_setting_is_what_the_server_answers(chat_ws):
    ws = await chat_ws(**OFFER)
    assert agreed(ws) == bounded(10)


async def test_a_compressed_chat_echoes_the_message_and_streams_its_reply_compressed(chat_ws):
    ws = await chat_ws(**OFFER)
    question = "Why is the derivative of the sine the cosine? " * 400  # 18 KB, repetitive
    frames = await ws.reply_to(question)
    messages = [f["data"]["message"] for f in frames if f["type"] == "message"]
    assert [m["content"] for m in messages if m["role"] == "user"] == [question]
    reply = [m for m in messages if m["role"] == "assistant"]
    assert reply[0]["status"] == "streaming"
    assert reply[-1]["status"] == "complete"
    assert reply[-1]["content"]
    # The server compressed what it sent: far fewer bytes came in than the frames hold.
    assert wire_bytes_in(ws) * 5 < ws.conn.protocol._message_bytes_in


async def test_a_small_frame_that_inflates_past_the_limit_closes_with_1009_and_spares_others(
    chat_ws,
):
    other = await chat_ws(**OFFER)
    bomb = await chat_ws(**OFFER)
    # 20 MB of zeros deflate to about 20 KB: under the 10 MiB limit on the wire, twice over it
    # inflated.
    with suppress(WebSocketClosedError, StreamClosedError):
        await bomb.send_raw("0" * (20 * 1024 * 1024))
    assert await bomb.conn.read_message() is None
    assert bomb.conn.close_code == 1009
    assert bomb.conn.protocol._wire_bytes_out < 100_000
    frames = await other.reply_to("still there?")
    assert frames[-1]["data"]["message"]["status"] == "complete"


@pytest.mark.parametrize(
    ("offers", "answer"),
    [
        ("permessage-deflate", "permessage-deflate; server_max_window_bits=12"),
        (
            "permessage-deflate; server_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=9",
        ),
        ("permessage-deflate; client_max_window_bits=15", BOUNDED),
        (
            'permessage-deflate; client_max_window_bits="11"',
            BOUNDED.replace("client_max_window_bits=12", "client_max_window_bits=11"),
        ),
        ("permessage-deflate; client_no_context_takeover; client_max_window_bits", BOUNDED),
        ("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits", BOUNDED),
        ("permessage-deflate; server_no_context_takeover", None),
        ("permessage-deflate; server_max_window_bits=8", None),
        ("permessage-deflate; server_max_window_bits", None),
        ("permessage-deflate; client_max_window_bits=16", None),
        ("permessage-deflate; client_max_window_bits=1; client_max_window_bits=1", None),
        ("permessage-deflate; mystery=1", None),
        (
            "permessage-deflate; mystery=1, permessage-deflate",
            "permessage-deflate; server_max_window_bits=12",
        ),
        ("x-webkit-deflate-frame", None),
    ],
)
def test_an_offer_is_answered_within_the_window_or_declined(offers, answer):
    assert agree_deflate(offers, 12) == answer


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("compression_window_bits", 8),
        ("compression_window_bits", 16),
        ("compression_mem_level", 0),
        ("compression_level", 10),
        ("compression_level", -1),
    ],
)
def test_a_compression_setting_outside_what_zlib_takes_is_refused(setting, value):
    with pytest.raises(TraitError, match=rf"^StudyMate\.{setting} must be"):
        StudyMate(**{setting: value})
