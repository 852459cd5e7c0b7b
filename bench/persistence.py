"""Figure 4: acknowledged user messages a second with many concurrent writers, beside raw
sqlite3 inserts of the same rows, one commit per row, at the same durability (WAL, NORMAL);
and the same with replies turned off. `python -m bench.writers` says where the time goes.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from studymate_jupyter.store.db import Database

from . import loadgen, no_replies
from .loadgen import Pool, Setup, Target
from .report import Row
from .roundtrip import SERVER_ARGS
from .servers import OWNER, BareEcho, ManyUsersServer, StudyMateServer
from .sizes import Sizes
from .users import token_for

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


def writer_pool(
    server: StudyMateServer, writers: int, processes: int, one_user: bool = False
) -> Pool:
    """Load generators for `writers` connections, each in a new chat of its own: each as a
    user of its own (s0, s1, ... through bench.users), or all as the server's owner."""
    tokens = [None if one_user else token_for(f"s{n}") for n in range(writers)]
    chats: list[str | None] = [server.new_chat("writer", token) for token in tokens]
    setups = [
        Setup(c, tokens=() if one_user else tuple(str(t) for t in t_))
        for c, t_ in zip(
            loadgen.split(chats, processes, False),
            loadgen.split(list(tokens), processes, False),
            strict=True,
        )
    ]
    return Pool(Target(server.ws_plain_url, server.headers, True), setups)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run(workdir: Path, sizes: Sizes, sm: StudyMateServer, bare: BareEcho) -> list[Row]:
    content = "x" * sizes.message_bytes
    raw = RawWriter(workdir / "raw-writes.db", sizes.writers)
    # A user per writer, as in a course (bench.users), with replies as usual and turned off.
    students = ManyUsersServer(workdir / "students", "s0", SERVER_ARGS)
    quiet = ManyUsersServer(workdir / "no-replies", "s0", [*SERVER_ARGS, no_replies.LOAD_ARG])

    bare_setups = [Setup(c) for c in loadgen.split([None] * sizes.writers, sizes.processes, False)]
    pools: dict[str, Pool] = {}
    rates: dict[str, list[float]] = {name: [] for name in ("users", "one", "off", "echo")}
    base: list[float] = []
    try:
        students.start()
        quiet.start()
        pools["users"] = writer_pool(students, sizes.writers, sizes.processes)
        pools["one"] = writer_pool(sm, sizes.writers, sizes.processes, one_user=True)
        pools["off"] = writer_pool(quiet, sizes.writers, sizes.processes)
        pools["echo"] = Pool(Target(bare.ws_plain_url, {}, False), bare_setups)
        for pool in pools.values():
            pool.ready()
        for _ in range(sizes.reps):
            base.append(raw.rate(sizes.persist_seconds, content))
            for name, pool in pools.items():
                start = time.monotonic() + 0.75
                done = pool.run(
                    "throughput",
                    op="message",
                    start_at=start,
                    duration=sizes.persist_seconds,
                    size=sizes.message_bytes,
                )
                rates[name].append(sum(done) / sizes.persist_seconds)
    finally:
        for pool in pools.values():
            pool.close()
        students.stop()
        quiet.stop()
        raw.close()
    raw_label = "raw sqlite3, commit per row"
    return [
        Row.paired(
            SECTION,
            f"acknowledged user messages, {sizes.writers} users writing at once",
            "msg/s",
            rates["users"],
            base,
            raw_label,
            target=("ratio", ">=", 0.5),
            note="each message also starts a reply (2 more writes); the raw rows have none",
        ),
        Row.paired(
            SECTION,
            f"acknowledged user messages, {sizes.writers} users writing at once, replies off",
            "msg/s",
            rates["off"],
            base,
            raw_label,
            note="the same with bench.no_replies loaded: nothing answers the messages",
        ),
        Row.paired(
            SECTION,
            f"acknowledged user messages, one user's {sizes.writers} connections writing",
            "msg/s",
            rates["one"],
            base,
            raw_label,
            note="each reply's chat_updated goes to all 50 of the user's connections",
        ),
        # The transport's ceiling on this machine: the same frames, same writers, bare echo.
        Row.paired(
            SECTION,
            f"acknowledged user messages, {sizes.writers} users writing at once (transport)",
            "msg/s",
            rates["users"],
            rates["echo"],
            "bare echo, same frames",
            note="how close to the WebSocket ceiling of this machine the durable path gets",
        ),
    ]
