"""Figure 3: the last page of a long chat in a big database, server-side and end to end.

The database is built with raw sqlite3 `executemany` into the real schema (made by the
migrations), with the long chat's messages spread among everyone else's, as they would be.
The baseline is the same page read with plain sqlite3 in this process.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studymate_jupyter.store import chats as chat_rows
from studymate_jupyter.store.db import Database

from . import loadgen
from .loadgen import Setup, Target
from .report import Row, latency_rows
from .servers import OWNER, StudyMateServer
from .sizes import Sizes
from .stats import percentile

SECTION = "3."
CHAT = "history-long"
OTHER_CHAT_SIZE = 1000
BATCH = 50_000
CONTENT = "A message of about the length people type into a study chat, " * 3


def same_content(n: int, role: str) -> str:
    return CONTENT


def build(
    path: Path, total: int, in_chat: int, content: Callable[[int, str], str] = same_content
) -> float:
    """Write `total` messages, `in_chat` of them in CHAT, the n-th one's text `content(n,
    role)`; the seconds it took."""
    started = time.perf_counter()
    Database(f"sqlite:///{path}").close()  # the real schema, through the migrations
    others = [f"other-{n}" for n in range(max(1, (total - in_chat) // OTHER_CHAT_SIZE))]
    stride = max(1, total // in_chat)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    stamp = "2026-01-01T00:00:00.000Z"
    conn.executemany(
        "INSERT INTO chats (id, user_id, title, created_at, updated_at, message_count) "
        "VALUES (?, ?, ?, ?, ?, 0)",
        [(c, OWNER, c, stamp, stamp) for c in [CHAT, *others]],
    )
    counts: dict[str, int] = {}
    asked: dict[str, str] = {}
    placed = 0
    for first in range(0, total, BATCH):
        rows = []
        for n in range(first, min(total, first + BATCH)):
            if n % stride == 0 and placed < in_chat:
                chat = CHAT
                placed += 1
            else:
                chat = others[n % len(others)]
            counts[chat] = counts.get(chat, 0) + 1
            # Questions and their answers alternate within each chat, and every answer names
            # its question: a question left unanswered would be answered at server start.
            message_id = f"h{n:09d}"
            if counts[chat] % 2:
                role, reply_to = "user", None
                asked[chat] = message_id
            else:
                role, reply_to = "assistant", asked.pop(chat)
            rows.append((message_id, OWNER, chat, role, content(n, role), stamp, reply_to))
        conn.executemany(
            "INSERT INTO messages (id, user_id, chat_id, role, content, status, citations, "
            "created_at, reply_to) VALUES (?, ?, ?, ?, ?, 'complete', '[]', ?, ?)",
            rows,
        )
    for chat, question in asked.items():
        counts[chat] += 1
        conn.execute(
            "INSERT INTO messages (id, user_id, chat_id, role, content, status, citations, "
            "created_at, reply_to) VALUES (?, ?, ?, 'assistant', ?, 'complete', '[]', ?, ?)",
            (f"{question}-answer", OWNER, chat, content(total, "assistant"), stamp, question),
        )
    conn.executemany(
        "UPDATE chats SET message_count = ? WHERE id = ?", [(v, k) for k, v in counts.items()]
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def raw_page(conn: sqlite3.Connection, limit: int) -> list[dict[str, Any]]:
    """The same page with plain sqlite3: owner check, newest `limit + 1`, oldest first."""
    owner = conn.execute("SELECT user_id FROM chats WHERE id = ?", (CHAT,)).fetchone()
    if owner != (OWNER,):
        raise RuntimeError("the long chat is missing")
    rows = conn.execute(
        "SELECT id, role, content, citations, created_at, chat_id, status FROM messages "
        "WHERE chat_id = ? ORDER BY seq DESC LIMIT ?",
        (CHAT, limit + 1),
    ).fetchall()
    return [
        {
            "id": r[0],
            "role": r[1],
            "content": r[2],
            "citations": json.loads(r[3]),
            "timestamp": r[4],
            "chat_id": r[5],
            "status": r[6],
        }
        for r in reversed(rows[:limit])
    ]


def time_raw(path: Path, samples: int, limit: int) -> list[float]:
    conn = sqlite3.connect(path)
    try:
        out = []
        for _ in range(samples):
            started = time.perf_counter()
            page = raw_page(conn, limit)
            out.append(time.perf_counter() - started)
            if len(page) != limit:
                raise RuntimeError("history page is short")
        return out
    finally:
        conn.close()


async def _time_repository(db: Database, samples: int, limit: int) -> list[float]:
    for _ in range(5):  # untimed: the reader threads open their connections
        await db.read(lambda s: chat_rows.load_messages(s, OWNER, CHAT, None, limit))
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        page = await db.read(lambda s: chat_rows.load_messages(s, OWNER, CHAT, None, limit))
        out.append(time.perf_counter() - started)
        if page is None or len(page.messages) != limit:
            raise RuntimeError("history page is short")
    return out


def time_repository(path: Path, samples: int, limit: int) -> list[float]:
    """`Database.read` + `store.chats.load_messages`, as the server calls them."""
    db = Database(f"sqlite:///{path}")
    try:
        return asyncio.run(_time_repository(db, samples, limit))
    finally:
        db.close()


def run(workdir: Path, sizes: Sizes) -> list[Row]:
    # Samples go back to back, faster than the default per-connection rate limit allows.
    server = StudyMateServer(workdir / "history-server", ["--StudyMate.rate_limit=0"])
    server.workdir.mkdir(parents=True, exist_ok=True)
    build_seconds = build(server.db_path, sizes.history_total, sizes.history_chat)
    n, limit = sizes.history_samples, sizes.history_limit
    time_raw(server.db_path, 20, limit)
    time_repository(server.db_path, 20, limit)
    raw: dict[int, list[float]] = {50: [], 99: []}
    side: dict[int, list[float]] = {50: [], 99: []}
    wire: dict[int, list[float]] = {50: [], 99: []}
    target = Target(server.ws_plain_url, server.headers)
    with server, loadgen.pool(target, [Setup((CHAT,))]) as p:
        p.run("history", samples=20, limit=limit)
        for _ in range(sizes.reps):
            r = time_raw(server.db_path, n, limit)
            s = time_repository(server.db_path, n, limit)
            (w,) = p.run("history", samples=n, limit=limit)
            for q in (50, 99):
                raw[q].append(percentile(r, q) * 1000)
                side[q].append(percentile(s, q) * 1000)
                wire[q].append(percentile(w, q) * 1000)
    what = f"history: last {limit} of {sizes.history_chat:,} in a DB of {sizes.history_total:,}"
    extra = {"build_seconds": round(build_seconds, 1), "samples_per_rep": n}
    return latency_rows(
        SECTION,
        what,
        "raw sqlite3",
        raw,
        side,
        wire,
        end_to_end_p50_target=10.0,
        extra=extra,
    )
