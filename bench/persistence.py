"""Figure 4: acknowledged user messages a second with many concurrent writers, beside raw
sqlite3 inserts of the same rows, one commit per row, at the same durability (WAL, NORMAL).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from studymate_jupyter.store.db import Database

from . import loadgen
from .loadgen import Pool, Setup, Target
from .report import Row
from .servers import OWNER, BareEcho, StudyMateServer
from .sizes import Sizes

SECTION = "4."


class RawWriter:
    """The baseline: the same message rows through plain sqlite3, one transaction each."""

    def __init__(self, path: Path, chats: int) -> None:
        Database(f"sqlite:///{path}").close()  # the real schema, through the migrations
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        stamp = now()
        self.chats = [uuid.uuid4().hex for _ in range(chats)]
        self.conn.executemany(
            "INSERT INTO chats (id, user_id, title, created_at, updated_at, message_count) "
            "VALUES (?, ?, 'raw', ?, ?, 0)",
            [(c, OWNER, stamp, stamp) for c in self.chats],
        )

    def rate(self, seconds: float, content: str) -> float:
        """Rows committed a second, one commit per row, for `seconds`."""
        done = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            chat = self.chats[done % len(self.chats)]
            stamp = now()
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "INSERT INTO messages (id, user_id, chat_id, role, content, status, citations, "
                "created_at) VALUES (?, ?, ?, 'user', ?, 'complete', '[]', ?)",
                (uuid.uuid4().hex, OWNER, chat, content, stamp),
            )
            # As the server does: the chat's count and order move with each message.
            self.conn.execute(
                "UPDATE chats SET message_count = message_count + 1, updated_at = ? WHERE id = ?",
                (stamp, chat),
            )
            self.conn.execute("COMMIT")
            done += 1
        return done / seconds

    def close(self) -> None:
        self.conn.close()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run(workdir: Path, sizes: Sizes, sm: StudyMateServer, bare: BareEcho) -> list[Row]:
    content = "x" * sizes.message_bytes
    chats: list[str | None] = [sm.new_chat(f"writer {n}") for n in range(sizes.writers)]
    setups = [Setup(c) for c in loadgen.split(chats, sizes.processes, False)]
    raw = RawWriter(workdir / "raw-writes.db", sizes.writers)
    bare_setups = [Setup(c) for c in loadgen.split([None] * len(chats), sizes.processes, False)]
    ours: list[float] = []
    base: list[float] = []
    echo: list[float] = []
    writers = Pool(Target(sm.ws_plain_url, sm.headers, True), setups)
    echoes = Pool(Target(bare.ws_plain_url, {}, False), bare_setups)
    try:
        writers.ready()
        echoes.ready()
        for _ in range(sizes.reps):
            base.append(raw.rate(sizes.persist_seconds, content))
            for pool, rates in ((echoes, echo), (writers, ours)):
                start = time.monotonic() + 0.75
                done = pool.run(
                    "throughput",
                    op="message",
                    start_at=start,
                    duration=sizes.persist_seconds,
                    size=sizes.message_bytes,
                )
                rates.append(sum(done) / sizes.persist_seconds)
    finally:
        writers.close()
        echoes.close()
        raw.close()
    return [
        Row.paired(
            SECTION,
            f"acknowledged user messages, {sizes.writers} concurrent writers",
            "msg/s",
            ours,
            base,
            "raw sqlite3, commit per row",
            target=("ratio", ">=", 0.5),
            note="each message also starts a reply (2 more writes); the raw rows have none",
        ),
        # The transport's ceiling on this machine: the same frames, same writers, bare echo.
        Row.paired(
            SECTION,
            f"acknowledged user messages, {sizes.writers} concurrent writers (transport)",
            "msg/s",
            ours,
            echo,
            "bare echo, same frames",
            note="how close to the WebSocket ceiling of this machine the durable path gets",
        ),
    ]
