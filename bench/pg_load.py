"""Load for figure 11: closed-loop durable writers that time each message's echo, and the raw
psycopg baseline beside them (one commit per message, as many connections as writers).

The writers are bench/loadgen.py's, with one more operation (`timed_throughput`): the same
closed loop as `throughput`, keeping the send → echo time of every message acknowledged in the
window. The echo is the acknowledgement: the server sends it only after the commit.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from typing import Any

from . import loadgen
from .loadgen import Session, Setup, Target


class TimedSession(Session):
    async def timed_throughput(
        self, start_at: float, duration: float, size: int
    ) -> tuple[int, list[float]]:
        """Messages acknowledged between start_at and start_at + duration, and the seconds
        from each one's send to its echo (each connection keeps one message in flight)."""
        end_at = start_at + duration
        content = "x" * size
        latencies: list[float] = []

        async def loop(i: int) -> None:
            conn = self.conns[i]
            await asyncio.sleep(max(0.0, start_at - 0.5 - time.monotonic()))  # 0.5 s warm-up
            while time.monotonic() < end_at:
                message_id = loadgen.new_id()
                sent = time.perf_counter()
                await conn.send(loadgen.message_frame(self.chat(i), message_id, content))
                await self._until_echo(conn, message_id)
                if start_at <= time.monotonic() <= end_at:
                    latencies.append(time.perf_counter() - sent)

        await asyncio.gather(*(loop(i) for i in range(len(self.conns))))
        await asyncio.sleep(1.0)  # let the replies to the last messages go by
        for conn in self.conns:
            await self._drain(conn)
        return len(latencies), latencies


def _timed_worker(target: Target, setup: Setup, commands: Any, results: Any) -> None:
    # This spawned process only runs this session: loadgen's command loop, with the subclass.
    loadgen.Session = TimedSession  # type: ignore[misc]
    loadgen._worker(target, setup, commands, results)


class TimedPool(loadgen.Pool):
    """loadgen.Pool whose processes also answer `timed_throughput`, each process with a
    target of its own (one server's writers each)."""

    def __init__(self, setups: list[tuple[Target, Setup]]) -> None:
        context = multiprocessing.get_context("spawn")
        self.commands = [context.Queue() for _ in setups]
        self.results = [context.Queue() for _ in setups]
        self.processes = [
            context.Process(target=_timed_worker, args=(t, s, c, r), daemon=True)
            for (t, s), c, r in zip(setups, self.commands, self.results, strict=True)
        ]
        for process in self.processes:
            process.start()


# ---- the raw baseline -------------------------------------------------------------------------

INSERT_MESSAGE = (
    "INSERT INTO messages (id, user_id, chat_id, role, content, status, citations, created_at) "
    "VALUES (%s, %s, %s, 'user', %s, 'complete', '[]', %s)"
)
# As the server does: the chat's count and order move with each message.
UPDATE_CHAT = "UPDATE chats SET message_count = message_count + 1, updated_at = %s WHERE id = %s"


def make_chats(conninfo: str, user_ids: list[str]) -> list[str]:
    """A chat for each raw connection, as each writer has its own."""
    import psycopg

    from .persistence import now

    chats = [uuid.uuid4().hex for _ in user_ids]
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cur:
        stamp = now()
        cur.executemany(
            "INSERT INTO chats (id, user_id, title, created_at, updated_at, message_count, "
            "unread, read_seq) VALUES (%s, %s, 'raw', %s, %s, 0, 0, 0)",
            [(c, u, stamp, stamp) for c, u in zip(chats, user_ids, strict=True)],
        )
    return chats


async def _raw_loops(
    conninfo: str, chats: list[tuple[str, str]], start_at: float, duration: float, size: int
) -> list[float]:
    import psycopg

    from .persistence import now

    content = "x" * size
    end_at = start_at + duration
    latencies: list[float] = []

    async def loop(user_id: str, chat_id: str) -> None:
        async with await psycopg.AsyncConnection.connect(conninfo) as conn:
            await asyncio.sleep(max(0.0, start_at - 0.5 - time.monotonic()))
            while time.monotonic() < end_at:
                started = time.perf_counter()
                stamp = now()
                async with conn.transaction():  # one commit per message
                    await conn.execute(
                        INSERT_MESSAGE, (uuid.uuid4().hex, user_id, chat_id, content, stamp)
                    )
                    await conn.execute(UPDATE_CHAT, (stamp, chat_id))
                if start_at <= time.monotonic() <= end_at:
                    latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(loop(u, c) for u, c in chats))
    return latencies


def _raw_process(
    conninfo: str, chats: list[tuple[str, str]], start_at: float, duration: float, size: int
) -> list[float]:
    return asyncio.run(_raw_loops(conninfo, chats, start_at, duration, size))


def raw_run(
    conninfo: str,
    chats: list[tuple[str, str]],
    processes: int,
    duration: float,
    size: int,
) -> list[float]:
    """Commit latencies (seconds) of every raw message committed in the window, from
    `len(chats)` connections dealt over `processes` processes (as the writers are)."""
    from concurrent.futures import ProcessPoolExecutor

    parts = [chats[i::processes] for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(len(parts), mp_context=context) as pool:
        # Connecting 100 connections takes a while: the window opens after that.
        start_at = time.monotonic() + 5.0
        futures = [
            pool.submit(_raw_process, conninfo, part, start_at, duration, size) for part in parts
        ]
        return [latency for future in futures for latency in future.result()]
