"""The soak's load generators: processes whose connections each chat, type, reload history,
reconnect and sometimes make a mistake on purpose, in a closed loop with think time.

Every connection reads all its frames as they come (a callback, not a bounded queue), as a
browser tab does. It times each message from its send to its echo (the acknowledgement: the
server echoes only what it has stored) and to its reply's final frame, and keeps the ids it
saw acknowledged so the bench can check the store against them. An error frame that answers
a mistake made on purpose is provoked; any other is a failure, and so is a socket the server
closed, a frame that did not come in time, or history that lacks an acknowledged message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from .soak_library import question
from .users import token_for

CONNECT_CONCURRENCY = 32
FRAME_TIMEOUT = 30.0  # seconds an echo, a history page or an expected error may take
REPLY_TIMEOUT = 120.0  # seconds from a message to its reply's final frame
HISTORY_LIMIT = 50
# How a connection spends its turns (the rest of the weight is a chat turn).
RELOAD, RECONNECT, DROP, MISTAKE = 0.18, 0.04, 0.02, 0.02


MAX_FAILURE_TEXTS = 200


@dataclass(frozen=True)
class Plan:
    """One load generator's connections, each (user, chat id), and how they behave."""

    url: str
    conns: tuple[tuple[str, str], ...]
    think: float  # mean seconds a connection waits between its turns
    seed: int


@dataclass
class Clock:
    """The run's start and end (time.monotonic, the same clock in every process)."""

    start_at: float = 0.0
    end_at: float = 0.0


@dataclass
class Report:
    """What one load generator saw; times in seconds, `t` from the run's start."""

    echo: list[tuple[float, float]] = field(default_factory=list)
    reply: list[tuple[float, float]] = field(default_factory=list)
    history: list[tuple[float, float]] = field(default_factory=list)
    acked: list[tuple[str, str, str]] = field(default_factory=list)  # (user, message id, chat)
    unacked: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)  # unprovoked error frames
    failures: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    reply_status: Counter[str] = field(default_factory=Counter)

    def failure(self, text: str) -> None:
        self.counts["failures"] += 1
        if len(self.failures) < MAX_FAILURE_TEXTS:
            self.failures.append(text)


def new_id() -> str:
    return uuid.uuid4().hex


def frame(kind: str, **data: Any) -> str:
    return json.dumps({"type": kind, "data": data})


class Client:
    """One user's connection to one chat, replaced by a new one when it reconnects."""

    def __init__(
        self, plan: Plan, clock: Clock, user: str, chat_id: str, report: Report, seed: int
    ) -> None:
        self.plan = plan
        self.clock = clock
        self.user = user
        self.chat_id = chat_id
        self.report = report
        self.rng = random.Random(seed)
        self.ws: WebSocketClientConnection | None = None
        self.generation = 0  # frames of an older socket of this client are ignored
        self.closing = False
        self.closed: asyncio.Event = asyncio.Event()
        self.waiting: dict[tuple[str, str], asyncio.Future[Any]] = {}
        self.last_acked: str | None = None

    # -- the socket --

    async def connect(self) -> None:
        request = HTTPRequest(
            self.plan.url,
            headers={"Authorization": f"token {token_for(self.user)}"},
            request_timeout=60,
        )
        self.closing = False
        self.closed = asyncio.Event()
        self.generation += 1
        generation = self.generation
        authed = self.expect("auth_ok", "")
        self.ws = await websocket_connect(
            request,
            max_message_size=64 * 1024 * 1024,
            on_message_callback=lambda raw: self.on_frame(raw, generation),
        )
        await self.send(frame("auth", chat_id=self.chat_id))
        await asyncio.wait_for(authed, FRAME_TIMEOUT)

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            self.ws.close()
            await asyncio.wait_for(self.closed.wait(), FRAME_TIMEOUT)
        self.ws = None

    async def send(self, text: str) -> None:
        if self.ws is None:
            raise ConnectionError("not connected")
        await self.ws.write_message(text)

    def expect(self, kind: str, key: str) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting[(kind, key)] = future
        return future

    def resolve(self, kind: str, key: str, value: Any) -> bool:
        future = self.waiting.pop((kind, key), None)
        if future is None or future.done():
            return False
        future.set_result(value)
        return True

    def on_frame(self, raw: str | bytes | None, generation: int) -> None:
        if generation != self.generation:
            return
        if raw is None:
            self.closed.set()
            if not self.closing:
                code = self.ws.close_code if self.ws is not None else None
                self.report.failure(f"the server closed a connection (code {code})")
                self.report.counts["closed by server"] += 1
            for future in self.waiting.values():
                if not future.done():
                    future.set_exception(ConnectionError("socket closed"))
            self.waiting.clear()
            return
        now = time.perf_counter()
        message = json.loads(raw)
        kind, data = message["type"], message["data"]
        self.report.counts[f"rx {kind}"] += 1
        if kind == "message":
            body = data["message"]
            if body["role"] == "user":
                self.resolve("echo", body["id"], now)
            elif body["status"] != "streaming" and body.get("reply_to"):
                self.resolve("reply", body["reply_to"], (now, body["status"]))
        elif kind == "messages" and data["chat_id"] == self.chat_id:
            self.resolve("messages", "", (now, data["messages"]))
        elif kind == "auth_ok":
            self.resolve("auth_ok", "", now)
        elif kind == "error" and not self.resolve("error", "", data["code"]):
            self.report.errors.append({"user": self.user, **data})

    # -- the turns --

    async def run(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.plan.think))  # not all at once
        while time.monotonic() < self.clock.end_at:
            turn = self.rng.random()
            try:
                if turn < RELOAD:
                    await self.reload()
                elif turn < RELOAD + RECONNECT:
                    await self.reconnect()
                elif turn < RELOAD + RECONNECT + DROP:
                    await self.drop_and_resend()
                elif turn < RELOAD + RECONNECT + DROP + MISTAKE:
                    await self.mistake()
                else:
                    await self.chat_turn()
            except (TimeoutError, ConnectionError, WebSocketClosedError) as exc:
                self.report.failure(f"{type(exc).__name__} {exc} ({self.user})")
                await self.recover()
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.plan.think)

    def since_start(self) -> float:
        return time.monotonic() - self.clock.start_at

    async def chat_turn(self) -> None:
        """Type for a moment, send a question, wait for its echo and its whole reply."""
        await self.send(frame("typing", chat_id=self.chat_id, is_typing=True))
        self.report.counts["typing"] += 1
        await asyncio.sleep(self.rng.uniform(0.3, 1.5))
        await self.send(frame("typing", chat_id=self.chat_id, is_typing=False))
        message_id = new_id()
        echoed, replied = self.expect("echo", message_id), self.expect("reply", message_id)
        t, started = self.since_start(), time.perf_counter()
        self.report.unacked.append((self.user, message_id, self.chat_id))
        await self.send(self.message_frame(message_id, question(self.rng)))
        self.report.counts["messages"] += 1
        echo_at = await asyncio.wait_for(echoed, FRAME_TIMEOUT)
        self.acknowledged(message_id)
        self.report.echo.append((t, echo_at - started))
        reply_at, status = await asyncio.wait_for(replied, REPLY_TIMEOUT)
        self.report.reply.append((t, reply_at - started))
        self.report.reply_status[status] += 1
        if status != "complete":
            self.report.failure(f"a reply ended {status} ({self.user})")

    def message_frame(self, message_id: str, content: str) -> str:
        message = {"id": message_id, "role": "user", "content": content}
        return frame("message", chat_id=self.chat_id, message=message)

    def acknowledged(self, message_id: str) -> None:
        entry = (self.user, message_id, self.chat_id)
        self.report.unacked.remove(entry)
        self.report.acked.append(entry)
        self.last_acked = message_id

    async def reload(self) -> None:
        """Load the last page of history; it must hold this connection's last acknowledged
        message (the two connections of a chat wait for their replies, so it is recent)."""
        page = self.expect("messages", "")
        t, started = self.since_start(), time.perf_counter()
        await self.send(frame("load_messages", chat_id=self.chat_id, limit=HISTORY_LIMIT))
        at, messages = await asyncio.wait_for(page, FRAME_TIMEOUT)
        self.report.history.append((t, at - started))
        self.report.counts["history pages"] += 1
        if self.last_acked and self.last_acked not in {m["id"] for m in messages}:
            self.report.failure(f"history lacks acknowledged message {self.last_acked}")

    async def reconnect(self) -> None:
        """Close the tab and open it again: a new connection, then its history."""
        await self.close()
        await self.connect()
        self.report.counts["reconnects"] += 1
        await self.reload()

    async def drop_and_resend(self) -> None:
        """Send a question and lose the connection at once; resend it (the same id) on a new
        one, as a client that saw no echo must. Its echo then is the acknowledgement; whether
        the first copy was stored or not, it must be stored once and answered once."""
        message_id = new_id()
        text = self.message_frame(message_id, question(self.rng))
        self.report.unacked.append((self.user, message_id, self.chat_id))
        await self.send(text)
        await self.close()
        await self.connect()
        echoed = self.expect("echo", message_id)
        await self.send(text)
        await asyncio.wait_for(echoed, FRAME_TIMEOUT)
        self.acknowledged(message_id)
        self.report.counts["resent after a drop"] += 1
        await self.reload()

    async def mistake(self) -> None:
        """Ask for something that is not there or out of range: the error is provoked."""
        if self.rng.random() < 0.5:
            text, code = frame("load_messages", chat_id=new_id()), "not_found"
        else:
            text, code = frame("load_messages", chat_id=self.chat_id, limit=0), "bad_request"
        answered = self.expect("error", "")
        await self.send(text)
        got = await asyncio.wait_for(answered, FRAME_TIMEOUT)
        self.report.counts["provoked errors"] += 1
        if got != code:
            self.report.failure(f"a mistake was answered {got}, not {code}")

    async def recover(self) -> None:
        """After a failure: a fresh connection (a few tries), so the turns go on."""
        for attempt in range(3):
            with contextlib.suppress(TimeoutError, OSError):
                await self.close()
            try:
                await self.connect()
                return
            except (TimeoutError, OSError, WebSocketClosedError) as exc:
                self.report.failure(f"reconnect {attempt + 1} failed: {type(exc).__name__}")
                await asyncio.sleep(1.0)


async def _serve(plan: Plan, commands: Any, results: Any) -> None:
    report, clock = Report(), Clock()
    clients = [
        Client(plan, clock, user, chat, report, plan.seed * 100_003 + n)
        for n, (user, chat) in enumerate(plan.conns)
    ]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(client: Client) -> None:
        async with gate:
            await client.connect()

    await asyncio.gather(*(connect(c) for c in clients))
    results.put(("ready", len(clients)))
    loop = asyncio.get_running_loop()
    clock.start_at, clock.end_at = await loop.run_in_executor(None, commands.get, True, 600)
    await asyncio.sleep(max(0.0, clock.start_at - time.monotonic()))
    await asyncio.gather(*(c.run() for c in clients))
    for client in clients:
        await client.close()
    results.put(("done", report))


def worker(plan: Plan, commands: Any, results: Any) -> None:
    """A load-generator process: connects, puts ("ready", connections), takes (start_at,
    end_at) from `commands`, runs, puts ("done", Report); ("error", text) if it cannot."""
    try:
        asyncio.run(_serve(plan, commands, results))
    except Exception as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))
