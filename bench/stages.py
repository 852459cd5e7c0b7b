"""Where a round trip's time goes inside the server: timestamps per stage.

`python -m bench.stages [--gap 0.02] [--samples 300] [--no-replies]
[--store sqlite|on-the-loop|no-sql|none]` starts StudyMate (the instant assistant, as figure
1) with this module loaded as a second server extension, sends typing frames and durable
messages one at a time with an idle gap after each, and prints the median and p99 of every
stage: from the client's send to the handler, the hand-off to the writer thread and back, the
transaction itself, the echo's way back, and what the client saw in all.

As an extension this module wraps a few methods with timestamps (time.perf_counter_ns, one
clock for every thread and process) and writes them to $STUDYMATE_STAGES when the server
stops. With the default `--store sqlite` it changes nothing else. `on-the-loop` runs each
write's transaction on the event loop instead of the writer thread (what a server that
committed there would measure; StudyMate does not: a commit can wait on another process's
lock for busy_timeout). The other two take the database out, to measure what the rest of the
path costs on its own: `no-sql` hands each write to the writer thread and back as usual but
stores nothing (the job answers what the store would have), `none` answers the write at once
on the event loop. Both imply `--no-replies` (bench.no_replies loaded beside it: nothing
answers a message). It is never loaded outside this bench.
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


STORES = ("sqlite", "on-the-loop", "no-sql", "none")


def _stored(session: Any, user_id: str, chat_id: str | None, message_id: str, content: str) -> Any:
    """What add_user_message answers for a new message in an existing chat, stored nowhere."""
    from studymate_jupyter.store.chats import StoredUserMessage

    assert chat_id is not None  # the bench sends to its own chat
    stamp = "2026-12-04T00:00:00.000Z"
    message = {
        "id": message_id,
        "role": "user",
        "content": content,
        "citations": [],
        "timestamp": stamp,
        "chat_id": chat_id,
        "status": "complete",
    }
    chat = {
        "id": chat_id,
        "title": "messages",
        "created_at": stamp,
        "updated_at": stamp,
        "message_count": 1,
        "scope": None,
        "unread": 0,
        "read_up_to": None,
    }
    return StoredUserMessage(message, chat, False, True)  # type: ignore[arg-type]


class _SessionIfAsked:
    """A session opened only when a job uses it: the bench's own setup (its chats) is stored,
    the messages (answered by _stored) are not."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.session: Any = None

    def __getattr__(self, name: str) -> Any:
        from sqlalchemy.orm import Session

        if self.session is None:
            self.session = Session(self.db._write_engine)
        return getattr(self.session, name)


def _without_sql(db: Any, fn: Callable[[Any], Any]) -> Any:
    lazy = _SessionIfAsked(db)
    result = fn(lazy)
    if lazy.session is not None:
        with lazy.session:
            lazy.session.commit()
    return result


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from studymate_jupyter.chat.connection import ChatConnection
    from studymate_jupyter.handlers.socket import ChatSocket
    from studymate_jupyter.store import chats
    from studymate_jupyter.store.db import Database

    store = os.environ.get("STUDYMATE_STAGES_STORE", "sqlite")
    if store in ("no-sql", "none"):
        chats.add_user_message = _stored

        def no_sql(self: Database, batch: list[tuple[Callable[[Any], Any], Any]]) -> Any:
            return [(True, _without_sql(self, fn)) for fn, _ in batch]

        Database._run_batch = no_sql  # type: ignore[method-assign]
    if store == "none":

        async def at_once(self: Database, fn: Callable[[Any], Any]) -> Any:
            return _without_sql(self, fn)

        Database.write = at_once  # type: ignore[method-assign]
    if store == "on-the-loop":
        real_batch = Database._run_batch

        async def on_the_loop(self: Database, fn: Callable[[Any], Any]) -> Any:
            ((ok, value),) = real_batch(self, [(fn, None)])
            if not ok:
                raise value
            return value

        Database.write = on_the_loop  # type: ignore[method-assign]
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
    server: StudyMateServer, samples: int, gap: float, replies: bool
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
                if not replies:
                    break
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
    message_stages: list[str],
) -> None:
    print(
        f"bare echo round trip, the same client: p50 {percentile(bare_us, 50):.0f} µs, "
        f"p99 {percentile(bare_us, 99):.0f} µs"
    )
    # The typing frames come first, after the auth frames of their two connections; then the
    # messages (each after its chat's auth frame).
    typing_frames = _per_frame(events, TYPING)[2 : samples + 2]
    message_frames = [f for f in _per_frame(events, message_stages)][-samples:]
    for name, frames, stages, client in (
        ("typing broadcast", typing_frames, TYPING, seen["typing"]),
        ("durable message echo", message_frames, message_stages, seen["message"]),
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
    parser.add_argument(
        "--store", choices=STORES, default="sqlite", help="what a write does (see above)"
    )
    parser.add_argument("--no-replies", action="store_true", help="nothing answers a message")
    args = parser.parse_args()
    replies = args.store in ("sqlite", "on-the-loop") and not args.no_replies
    stages = MESSAGE
    if args.store in ("none", "on-the-loop"):
        stages = [s for s in MESSAGE if s not in ("writer starts", "committed")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stages.json"
        os.environ["STUDYMATE_STAGES"] = str(out)
        os.environ["STUDYMATE_STAGES_STORE"] = args.store
        server = StudyMateServer(
            Path(tmp) / "server",
            [
                *SERVER_ARGS,
                "--ServerApp.jpserver_extensions={'studymate_jupyter': True, 'bench.stages': True"
                + ("}" if replies else ", 'bench.no_replies': True}"),
            ],
        )
        with BareEcho() as bare, server:
            seen = asyncio.run(_drive(server, args.samples, args.gap, replies))
            bare_us = [
                b * 1e6 for b in asyncio.run(_bare(bare.ws_plain_url, args.samples, args.gap))
            ]
        print(f"store: {args.store}, replies {'on' if replies else 'off'}")
        report(json.loads(out.read_text()), seen, bare_us, args.samples, stages)


if __name__ == "__main__":
    main()
