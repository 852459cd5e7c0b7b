"""Where a round trip's time goes inside the server: timestamps per stage.

`python -m bench.stages [--gap 0.02] [--samples 300]` starts StudyMate (the instant assistant,
as figure 1) with this module loaded as a second server extension, sends typing frames and
durable messages one at a time with an idle gap after each, and prints the median and p99 of
every stage: from the frame reaching the handler to its echo leaving it, the hand-off to the
writer thread and back, the transaction itself, and what the client saw in all.

As an extension this module wraps a few methods with timestamps (time.perf_counter_ns, one
clock for both threads) and writes them to $STUDYMATE_STAGES when the server stops. It
changes nothing else; it is never loaded outside this bench.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import functools
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

from .roundtrip import SERVER_ARGS
from .servers import BareEcho, StudyMateServer
from .stats import percentile

EVENTS: list[tuple[str, int]] = []


def _stamp(stage: str) -> None:
    EVENTS.append((stage, time.perf_counter_ns()))


def _before(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _stamp(stage)
        return fn(*args, **kwargs)

    return wrapper


def _around(start: str, end: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _stamp(start)
        try:
            return fn(*args, **kwargs)
        finally:
            _stamp(end)

    return wrapper


def _around_async(start: str, end: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        _stamp(start)
        try:
            return await fn(*args, **kwargs)
        finally:
            _stamp(end)

    return wrapper


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "bench.stages"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from studymate_jupyter.chat.connection import ChatConnection
    from studymate_jupyter.handlers.socket import ChatSocket
    from studymate_jupyter.store.db import Database

    ChatSocket.on_message = _before("frame in", ChatSocket.on_message)  # type: ignore[method-assign]
    ChatConnection._dispatch = _before("dispatched", ChatConnection._dispatch)  # type: ignore[method-assign]
    Database.write = _around_async("write called", "write returned", Database.write)  # type: ignore[method-assign]
    Database._run_batch = _around("writer starts", "committed", Database._run_batch)  # type: ignore[method-assign]
    ChatSocket._send = _before("frame out", ChatSocket._send)  # type: ignore[method-assign]
    out = os.environ["STUDYMATE_STAGES"]
    atexit.register(lambda: Path(out).write_text(json.dumps(EVENTS)))


# ---- the run ----------------------------------------------------------------------------------

# The stages of one frame, in order; each delta is from the previous one present.
TYPING = ["frame in", "frame out"]
MESSAGE = [
    "frame in",
    "dispatched",
    "write called",
    "writer starts",
    "committed",
    "write returned",
    "frame out",
]


async def _drive(
    server: StudyMateServer, samples: int, gap: float
) -> dict[str, list[tuple[int, int]]]:
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    def connect() -> Any:
        return websocket_connect(HTTPRequest(server.ws_plain_url, headers=server.headers))

    typing_chat, message_chat = server.new_chat("typing"), server.new_chat("messages")
    sender, partner = await connect(), await connect()
    for ws, chat in ((sender, typing_chat), (partner, typing_chat)):
        await ws.write_message(json.dumps({"type": "auth", "data": {"chat_id": chat}}))
        await ws.read_message()
    # (sent, received) per frame, on the server's clock: perf_counter is CLOCK_MONOTONIC on
    # Linux, one clock for every process, so the wire's share on each side can be read off.
    seen: dict[str, list[tuple[int, int]]] = {"typing": [], "message": []}
    for _ in range(samples):
        frame = {"type": "typing", "data": {"chat_id": typing_chat, "is_typing": True}}
        started = time.perf_counter_ns()
        await sender.write_message(json.dumps(frame))
        await partner.read_message()
        seen["typing"].append((started, time.perf_counter_ns()))
        await asyncio.sleep(gap)
    await sender.write_message(json.dumps({"type": "auth", "data": {"chat_id": message_chat}}))
    await sender.read_message()
    for _ in range(samples):
        message_id = uuid.uuid4().hex
        message = {"id": message_id, "role": "user", "content": "x" * 64}
        started = time.perf_counter_ns()
        await sender.write_message(
            json.dumps({"type": "message", "data": {"chat_id": message_chat, "message": message}})
        )
        while True:
            got = json.loads(await sender.read_message())
            if got["type"] == "message" and got["data"]["message"]["id"] == message_id:
                seen["message"].append((started, time.perf_counter_ns()))
            data = got["data"]
            if got["type"] == "typing" and data["user_id"] == "assistant" and not data["is_typing"]:
                break  # the reply is over: the gap starts from here
        await asyncio.sleep(gap)
    sender.close()
    partner.close()
    return seen


async def _bare(url: str, samples: int, gap: float) -> list[float]:
    """The same client's round trips through the bare echo, with the same gap."""
    from tornado.websocket import websocket_connect

    ws = await websocket_connect(url)
    times = []
    for _ in range(samples):
        frame = json.dumps({"type": "typing", "data": {"chat_id": "c" * 32, "is_typing": True}})
        started = time.perf_counter()
        await ws.write_message(frame)
        await ws.read_message()
        times.append(time.perf_counter() - started)
        await asyncio.sleep(gap)
    ws.close()
    return times


def _per_frame(events: list[tuple[str, int]], stages: list[str]) -> list[dict[str, int]]:
    """The first timestamp of each stage after each `frame in`, for frames that went through
    all of them (replies' writes come after the echo and are left out)."""
    frames: list[dict[str, int]] = []
    current: dict[str, int] | None = None
    for stage, at in events:
        if stage == "frame in":
            current = {}
            frames.append(current)
        if current is not None and stage in stages and stage not in current:
            current[stage] = at
    return [f for f in frames if all(s in f for s in stages)]


def _row(label: str, values_us: list[float]) -> None:
    print(f"  {label:38} {percentile(values_us, 50):9.0f} {percentile(values_us, 99):9.0f}")


def report(
    events: list[tuple[str, int]],
    seen: dict[str, list[tuple[int, int]]],
    bare_us: list[float],
    samples: int,
) -> None:
    print(
        f"bare echo round trip, the same client: p50 {percentile(bare_us, 50):.0f} µs, "
        f"p99 {percentile(bare_us, 99):.0f} µs"
    )
    # The typing frames come first, after the auth frames of their two connections; then the
    # messages (each after its chat's auth frame).
    typing_frames = _per_frame(events, TYPING)[2 : samples + 2]
    message_frames = [f for f in _per_frame(events, MESSAGE)][-samples:]
    for name, frames, stages, client in (
        ("typing broadcast", typing_frames, TYPING, seen["typing"]),
        ("durable message echo", message_frames, MESSAGE, seen["message"]),
    ):
        print(f"\n{name}: {len(frames)} frames")
        print(f"  {'stage':38} {'p50 µs':>9} {'p99 µs':>9}")
        pairs = list(zip(client[-len(frames) :], frames, strict=True))
        _row("client sends → frame in", [(f[stages[0]] - sent) / 1000 for (sent, _), f in pairs])
        for before, after in pairwise(stages):
            _row(f"{before} → {after}", [(f[after] - f[before]) / 1000 for f in frames])
        _row("frame out → client has it", [(got - f[stages[-1]]) / 1000 for (_, got), f in pairs])
        _row(
            "in the server (frame in → out)",
            [(f[stages[-1]] - f[stages[0]]) / 1000 for f in frames],
        )
        _row("the client’s round trip", [(got - sent) / 1000 for sent, got in client])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gap", type=float, default=0.02, help="idle seconds after each")
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stages.json"
        os.environ["STUDYMATE_STAGES"] = str(out)
        server = StudyMateServer(
            Path(tmp) / "server",
            [
                *SERVER_ARGS,
                "--ServerApp.jpserver_extensions={'studymate_jupyter': True, 'bench.stages': True}",
            ],
        )
        with BareEcho() as bare, server:
            seen = asyncio.run(_drive(server, args.samples, args.gap))
            bare_us = [
                b * 1e6 for b in asyncio.run(_bare(bare.ws_plain_url, args.samples, args.gap))
            ]
        report(json.loads(out.read_text()), seen, bare_us, args.samples)


if __name__ == "__main__":
    main()
