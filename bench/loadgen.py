"""Load generators: separate processes holding WebSocket connections and timing frames.

A `Pool` starts one process per `Setup`; each connects its connections, says it is ready,
then runs the commands the bench sends it and exits when told, when it has been idle too long,
or when its lifetime is over, whichever comes first. The same client code speaks to StudyMate
and to the bare echo server; only the framing of the first `auth` differs.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import queue
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

# A load generator never outlives this, whatever the bench does.
LIFETIME = 900.0
IDLE = 300.0
CONNECT_CONCURRENCY = 32
FRAME_TIMEOUT = 30.0


@dataclass(frozen=True)
class Target:
    """Where to connect. `studymate`: speak the protocol (auth first); else a bare echo."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    studymate: bool = True


@dataclass(frozen=True)
class Setup:
    """One process's connections: the chat each one follows (None: none), its stream mode,
    and whether it offers compression (permessage-deflate; none by default)."""

    chat_ids: tuple[str | None, ...]
    stream_modes: tuple[str, ...] = ()
    compressed: tuple[bool, ...] = ()
    # Each connection's own Authorization header (a user per connection); () for Target's.
    tokens: tuple[str, ...] = ()


def wire_bytes(payload: int) -> int:
    """Bytes a server-to-client (unmasked) WebSocket frame of that payload takes on the wire."""
    header = 2 if payload < 126 else 4 if payload < 65536 else 10
    return payload + header


def typing_frame(chat_id: str) -> str:
    return json.dumps({"type": "typing", "data": {"chat_id": chat_id, "is_typing": True}})


def message_frame(chat_id: str, message_id: str, content: str) -> str:
    message = {"id": message_id, "role": "user", "content": content}
    return json.dumps({"type": "message", "data": {"chat_id": chat_id, "message": message}})


def message_frame_new_chat(message_id: str, content: str) -> str:
    message = {"id": message_id, "role": "user", "content": content}
    return json.dumps({"type": "message", "data": {"message": message}})


def new_id() -> str:
    return uuid.uuid4().hex


class Conn:
    """One client connection that counts what it receives."""

    def __init__(self, ws: WebSocketClientConnection) -> None:
        self.ws = ws
        self.rx_bytes = 0

    async def recv(self, timeout: float = FRAME_TIMEOUT) -> str:
        raw = await asyncio.wait_for(self.ws.read_message(), timeout)
        if raw is None:
            raise ConnectionError(f"socket closed ({self.ws.close_code})")
        text = raw if isinstance(raw, str) else raw.decode()
        self.rx_bytes += wire_bytes(len(text.encode()))
        return text

    async def recv_json(self, timeout: float = FRAME_TIMEOUT) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await self.recv(timeout))
        return frame

    async def send(self, text: str) -> None:
        await self.ws.write_message(text)

    @property
    def socket_bytes(self) -> int:
        """Bytes of frames read off the socket so far, as sent (compressed or not). Tornado
        counts them in a private attribute; rx_bytes counts frames as they inflate."""
        return int(self.ws.protocol._wire_bytes_in)  # type: ignore[union-attr]


async def connect(
    target: Target,
    chat_id: str | None,
    stream: str,
    compressed: bool = False,
    token: str | None = None,
) -> Conn:
    headers = target.headers if token is None else {"Authorization": f"token {token}"}
    request = HTTPRequest(target.url, headers=headers, request_timeout=60)
    ws = await websocket_connect(
        request,
        max_message_size=64 * 1024 * 1024,
        # {}: offer permessage-deflate on Tornado's terms (as browsers offer it).
        compression_options={} if compressed else None,
    )
    if compressed and "Sec-WebSocket-Extensions" not in (ws.headers or {}):
        ws.close()
        raise RuntimeError("the server did not agree to compression")
    conn = Conn(ws)
    if target.studymate:
        data: dict[str, Any] = {"stream": stream}
        if chat_id is not None:
            data["chat_id"] = chat_id
        await conn.send(json.dumps({"type": "auth", "data": data}))
        while (await conn.recv_json())["type"] != "auth_ok":
            pass
    return conn


# ---- what a load generator does ---------------------------------------------------------------


class Session:
    """The connections of one load-generator process and the operations the bench asks for."""

    def __init__(self, target: Target, setup: Setup) -> None:
        self.target = target
        self.setup = setup
        self.conns: list[Conn] = []

    async def open(self) -> None:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        count = len(self.setup.chat_ids)
        modes = self.setup.stream_modes or ("full",) * count
        compressed = self.setup.compressed or (False,) * count
        tokens: tuple[str | None, ...] = self.setup.tokens or (None,) * count

        async def one(chat_id: str | None, mode: str, deflate: bool, token: str | None) -> Conn:
            async with gate:
                return await connect(self.target, chat_id, mode, deflate, token)

        self.conns = list(
            await asyncio.gather(
                *(
                    one(c, m, d, t)
                    for c, m, d, t in zip(
                        self.setup.chat_ids, modes, compressed, tokens, strict=True
                    )
                )
            )
        )

    def close(self) -> None:
        for conn in self.conns:
            conn.ws.close()

    def partner(self, i: int) -> int:
        """Who receives what connection i sends: its chat partner, or itself on the echo."""
        return i ^ 1 if self.target.studymate else i

    def chat(self, i: int) -> str:
        return self.setup.chat_ids[i] or ""

    # -- latency: one sender, paced --

    async def latency(
        self, op: str, samples: int, interval: float, size: int, gap: float = 0.0
    ) -> list[float]:
        """Seconds per round trip, one frame at a time, sends `interval` apart; with a `gap`,
        each send comes that long after the last round trip (and its reply) ended instead."""
        out: list[float] = []
        sender = self.conns[0]
        receiver = self.conns[self.partner(0)] if op == "typing" else sender
        content = "x" * size
        next_at = time.monotonic()
        for _ in range(samples):
            if op == "typing":
                frame = typing_frame(self.chat(0))
            else:
                message_id = new_id()
                frame = message_frame(self.chat(0), message_id, content)
            started = time.perf_counter()
            await sender.send(frame)
            if op == "message" and self.target.studymate:
                await self._until_echo(receiver, message_id)
                out.append(time.perf_counter() - started)
                await self._until_reply_done(receiver)  # the reply follows, untimed
            else:
                await receiver.recv()
                out.append(time.perf_counter() - started)
            next_at += interval
            await asyncio.sleep(gap or max(0.0, next_at - time.monotonic()))
        return out

    @staticmethod
    async def _until_echo(conn: Conn, message_id: str) -> None:
        while True:
            frame = await conn.recv_json()
            if frame["type"] == "message" and frame["data"]["message"]["id"] == message_id:
                return
            if frame["type"] == "error":
                raise RuntimeError(f"server error: {frame['data']}")

    @staticmethod
    async def _until_reply_done(conn: Conn) -> None:
        while True:
            frame = await conn.recv_json()
            data = frame["data"]
            # The reply's last frame: the assistant stops typing.
            if (
                frame["type"] == "typing"
                and data["user_id"] == "assistant"
                and not data["is_typing"]
            ):
                return

    # -- throughput: every connection keeps one frame in flight --

    async def throughput(self, op: str, start_at: float, duration: float, size: int) -> int:
        """Round trips completed by all connections between start_at and start_at + duration.

        Sending starts 0.5 s early so every connection has a frame in flight at start_at; a
        round trip counts when it completes inside the window, wherever it started.
        """
        end_at = start_at + duration
        content = "x" * size

        async def loop(i: int) -> int:
            # A message is echoed to its sender (each connection has its own chat); a typing
            # frame reaches the chat partner.
            sender = self.conns[i]
            receiver = sender if op == "message" else self.conns[self.partner(i)]
            done = 0
            await asyncio.sleep(max(0.0, start_at - 0.5 - time.monotonic()))  # 0.5 s warm-up
            while time.monotonic() < end_at:
                if op == "message":
                    message_id = new_id()
                    await sender.send(message_frame(self.chat(i), message_id, content))
                    if self.target.studymate:
                        await self._until_echo(receiver, message_id)
                    else:
                        await receiver.recv()
                else:
                    await sender.send(typing_frame(self.chat(i)))
                    await receiver.recv()
                finished = time.monotonic()
                if start_at <= finished <= end_at:
                    done += 1
            return done

        counts = await asyncio.gather(*(loop(i) for i in range(len(self.conns))))
        if op == "message" and self.target.studymate:
            await asyncio.sleep(1.0)  # let the replies to the last messages go by
            for conn in self.conns:
                await self._drain(conn)
        return sum(counts)

    @staticmethod
    async def _drain(conn: Conn) -> None:
        while True:
            try:
                await conn.recv(timeout=0.05)
            except TimeoutError:
                return

    # -- history --

    async def history(self, samples: int, limit: int) -> list[float]:
        out: list[float] = []
        conn = self.conns[0]
        frame = json.dumps(
            {"type": "load_messages", "data": {"chat_id": self.chat(0), "limit": limit}}
        )
        for _ in range(samples):
            started = time.perf_counter()
            await conn.send(frame)
            while True:
                reply = await conn.recv_json()
                if reply["type"] == "messages":
                    break
                if reply["type"] == "error":
                    raise RuntimeError(f"server error: {reply['data']}")
            out.append(time.perf_counter() - started)
            if len(reply["data"]["messages"]) != limit:
                raise RuntimeError("history page is short")
        return out

    async def history_bytes(self, limit: int) -> int:
        """Socket bytes of one page of history, from the request to the page's last byte."""
        conn = self.conns[0]
        before = conn.socket_bytes
        frame = json.dumps(
            {"type": "load_messages", "data": {"chat_id": self.chat(0), "limit": limit}}
        )
        await conn.send(frame)
        while (reply := await conn.recv_json())["type"] != "messages":
            if reply["type"] == "error":
                raise RuntimeError(f"server error: {reply['data']}")
        if len(reply["data"]["messages"]) != limit:
            raise RuntimeError("history page is short")
        return conn.socket_bytes - before

    # -- retrieval: time from a question to the first piece of its answer --

    async def first_piece(self, questions: list[str]) -> list[float]:
        out: list[float] = []
        conn = self.conns[0]
        for question in questions:
            started = time.perf_counter()
            await conn.send(message_frame_new_chat(new_id(), question))
            while True:
                frame = await conn.recv_json()
                if frame["type"] == "error":
                    raise RuntimeError(f"server error: {frame['data']}")
                message = frame["data"].get("message") if frame["type"] == "message" else None
                if message and message["role"] == "assistant" and message["content"]:
                    break
            out.append(time.perf_counter() - started)
            await self._until_reply_done(conn)
        return out

    # -- streaming: connection 0 asks; every connection counts the reply's bytes --

    async def stream(self) -> list[dict[str, Any]]:
        ask = message_frame(self.chat(0), new_id(), "please write a long answer")
        counting = [self._count_reply(conn) for conn in self.conns]
        before = [conn.socket_bytes for conn in self.conns]
        await self.conns[0].send(ask)
        counts = list(await asyncio.gather(*counting))
        # Every frame from the question to the reply's end (and any read ahead with it).
        for count, conn, start in zip(counts, self.conns, before, strict=True):
            count["socket_bytes"] = conn.socket_bytes - start
        return counts

    @staticmethod
    async def _count_reply(conn: Conn) -> dict[str, Any]:
        wire = frames = 0
        started = False
        content = ""
        final: dict[str, Any] | None = None
        while True:
            raw = await conn.recv()
            frame = json.loads(raw)
            kind, data = frame["type"], frame["data"]
            reply_frame = (
                (kind == "typing" and data["user_id"] == "assistant")
                or kind == "message_delta"
                or (kind == "message" and data["message"]["role"] == "assistant")
            )
            if not reply_frame:
                continue
            started = True
            wire += wire_bytes(len(raw.encode()))
            frames += 1
            if kind == "message":
                content = data["message"]["content"]
                if data["message"]["status"] != "streaming":
                    final = data["message"]
            elif kind == "message_delta":
                content = content[: data["offset"]] + data["text"]
                if "status" in data:  # a delta client's reply ends with its last delta
                    final = {"content": content, "status": data["status"]}
            if started and kind == "typing" and not data["is_typing"]:
                break
        if final is None:
            raise RuntimeError("the reply ended without a final message")
        return {"wire_bytes": wire, "frames": frames, "final": final}


# ---- the process side -------------------------------------------------------------------------


def _worker(target: Target, setup: Setup, commands: Any, results: Any) -> None:
    asyncio.run(_serve(target, setup, commands, results))


async def _serve(target: Target, setup: Setup, commands: Any, results: Any) -> None:
    born = time.monotonic()
    session = Session(target, setup)
    loop = asyncio.get_running_loop()
    try:
        await session.open()
        results.put(("ready", len(session.conns)))
        idle_since = time.monotonic()
        while time.monotonic() - born < LIFETIME and time.monotonic() - idle_since < IDLE:
            try:
                command = await loop.run_in_executor(None, commands.get, True, 1.0)
            except queue.Empty:
                continue
            name, kwargs = command
            if name == "close":
                break
            remaining = LIFETIME - (time.monotonic() - born)
            value = await asyncio.wait_for(getattr(session, name)(**kwargs), remaining)
            results.put(("done", value))
            idle_since = time.monotonic()
    except Exception as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        session.close()


class Pool:
    """Load-generator processes, one per Setup, driven in lock step."""

    def __init__(self, target: Target, setups: list[Setup]) -> None:
        context = multiprocessing.get_context("spawn")
        self.commands = [context.Queue() for _ in setups]
        self.results = [context.Queue() for _ in setups]
        self.processes: list[SpawnProcess] = [
            context.Process(target=_worker, args=(target, s, c, r), daemon=True)
            for s, c, r in zip(setups, self.commands, self.results, strict=True)
        ]
        for process in self.processes:
            process.start()

    def _collect(self, timeout: float) -> list[Any]:
        deadline = time.monotonic() + timeout
        values = []
        for results in self.results:
            kind, value = results.get(True, max(0.1, deadline - time.monotonic()))
            if kind == "error":
                raise RuntimeError(f"load generator failed: {value}")
            values.append(value)
        return values

    def ready(self, timeout: float = 180) -> int:
        """Wait until every process has connected; the number of connections."""
        return sum(self._collect(timeout))

    def run(self, name: str, timeout: float = 300, **kwargs: Any) -> list[Any]:
        """Run one operation in every process at once; their results in process order."""
        for commands in self.commands:
            commands.put((name, kwargs))
        return self._collect(timeout)

    def close(self) -> None:
        for commands in self.commands:
            commands.put(("close", {}))
        for process in self.processes:
            process.join(15)
            if process.is_alive():
                process.terminate()
                process.join(5)


@contextmanager
def pool(target: Target, setups: list[Setup], timeout: float = 180) -> Iterator[Pool]:
    """Started and connected load generators, closed on exit."""
    started = Pool(target, setups)
    try:
        started.ready(timeout)
        yield started
    finally:
        started.close()


def split(items: list[str | None], parts: int, keep_pairs: bool) -> list[tuple[str | None, ...]]:
    """Deal connections' chats out to processes, keeping the two of a pair together."""
    unit = 2 if keep_pairs else 1
    groups = [items[i : i + unit] for i in range(0, len(items), unit)]
    out: list[list[str | None]] = [[] for _ in range(parts)]
    for n, group in enumerate(groups):
        out[n % parts].extend(group)
    return [tuple(chunk) for chunk in out if chunk]
