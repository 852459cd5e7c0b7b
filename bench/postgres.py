"""Figure 11: StudyMate on one PostgreSQL, as a course deployment runs it.

- Writers: `pg_servers` real `jupyter server` processes on one database, `pg_writers` users
  each (bench.users), every user in a chat of their own keeping one durable message in flight
  (the instant assistant replying, as in figure 4): acknowledged messages a second and the
  send → echo time, beside a raw psycopg loop in the same run committing the same rows (the
  message and its chat's count, one transaction per message) from as many connections.
- Search: `pg_chunks` chunks, most in the course library and the rest in a few users' own, as
  one of those users (who reads the course's and their own): library search p50/p99 with the
  `bm25` and `hybrid` retrievers, beside the plain tsvector query (GIN match, ts_rank, 40 rows).

The cluster is the tests' (studymate_jupyter/postgres_cluster.py), started with PostgreSQL's
default durability (fsync and synchronous_commit on, unlike the tests') and room for the raw
loop's connections beside the servers' pools.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import text

from studymate_jupyter import postgres_cluster
from studymate_jupyter.identity import COURSE_OWNER
from studymate_jupyter.library.hybrid import HybridRetriever
from studymate_jupyter.library.retrieval import Bm25Retriever
from studymate_jupyter.store.db import Database

from .hybrid_search import fill_random_vectors, time_retriever, warm_encoders
from .loadgen import Setup, Target
from .pg_load import TimedPool, make_chats, raw_run
from .report import Row
from .retrieval import questions
from .roundtrip import SERVER_ARGS
from .servers import ManyUsersServer
from .stats import percentile
from .users import token_for

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.orm import Session

    from studymate_jupyter.postgres_cluster import PostgresCluster

    from .sizes import Sizes

SECTION = "11."
# The user whose searches are timed, and the others with a library of their own.
READER = "student0"
PERSONAL = ("student0", "student1", "student2", "student3")
COURSE_SHARE = 0.7  # of the chunks; the rest split between PERSONAL
RAW_SEARCH = (
    "SELECT rowid, ts_rank(terms, q) AS rank FROM chunk_search, "
    "websearch_to_tsquery('english', %s) AS q WHERE terms @@ q ORDER BY rank DESC LIMIT 40"
)


def start_cluster() -> PostgresCluster:
    """A started cluster at PostgreSQL's default durability; LookupError without PostgreSQL."""
    return postgres_cluster.start_cluster(postgres_cluster.DURABLE)


def url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def conninfo(url: URL) -> str:
    return (
        f"host={url.host} port={url.port} user={url.username} password={url.password} "
        f"dbname={url.database}"
    )


# ---- writers ----------------------------------------------------------------------------------


def writers(workdir: Path, sizes: Sizes, cluster: PostgresCluster) -> list[Row]:
    url = cluster.create_database()
    Database(url_text(url)).close()  # the schema, through the migrations
    total = sizes.pg_servers * sizes.pg_writers
    servers = [
        ManyUsersServer(
            workdir / f"pg-server-{n}",
            f"w{n}-0",
            [*SERVER_ARGS, f"--StudyMate.db_url={url_text(url)}"],
        )
        for n in range(sizes.pg_servers)
    ]
    raw_chats = make_chats(conninfo(url), [f"raw{n}" for n in range(total)])
    raw_pairs = [(f"raw{n}", chat) for n, chat in enumerate(raw_chats)]
    pool: TimedPool | None = None
    rates: list[float] = []
    p50: list[float] = []
    p99: list[float] = []
    raw_rates: list[float] = []
    raw50: list[float] = []
    raw99: list[float] = []
    try:
        for server in servers:
            server.start()
        # Each server's users, each with a chat of their own, dealt over the load generators.
        conns: list[tuple[str, str, str]] = []  # (url, token, chat)
        for n, server in enumerate(servers):
            for w in range(sizes.pg_writers):
                token = token_for(f"w{n}-{w}")
                conns.append((server.ws_plain_url, token, server.new_chat("writer", token)))
        # A load-generator process per server (a Target is one URL), holding its writers.
        setups: list[tuple[Target, Setup]] = []
        for server in servers:
            mine = [c for c in conns if c[0] == server.ws_plain_url]
            setups.append(
                (
                    Target(server.ws_plain_url, {}, True),
                    Setup(tuple(c[2] for c in mine), tokens=tuple(c[1] for c in mine)),
                )
            )
        pool = TimedPool(setups)
        pool.ready()
        for _ in range(sizes.reps):
            # As many connections in as many client processes as the writers.
            raw = raw_run(conninfo(url), raw_pairs, sizes.pg_servers, sizes.persist_seconds, 64)
            raw_rates.append(len(raw) / sizes.persist_seconds)
            raw50.append(percentile(raw, 50) * 1000)
            raw99.append(percentile(raw, 99) * 1000)
            start = time.monotonic() + 0.75
            done = pool.run(
                "timed_throughput", start_at=start, duration=sizes.persist_seconds, size=64
            )
            echoes = [latency for _, latencies in done for latency in latencies]
            rates.append(sum(count for count, _ in done) / sizes.persist_seconds)
            p50.append(percentile(echoes, 50) * 1000)
            p99.append(percentile(echoes, 99) * 1000)
    finally:
        if pool is not None:
            pool.close()
        for server in servers:
            server.stop()
        cluster.drop_database(url)
    what = f"{sizes.pg_servers} servers × {sizes.pg_writers} users writing on one PostgreSQL"
    raw_label = f"raw psycopg, commit per message, {total} connections"
    extra = {"durability": "fsync on, synchronous_commit on", "servers": sizes.pg_servers}
    return [
        Row.paired(
            SECTION,
            f"acknowledged user messages, {what}",
            "msg/s",
            rates,
            raw_rates,
            raw_label,
            note="each message also starts a reply (2 more writes); the raw rows have none",
            extra=extra,
        ),
        Row.paired(
            SECTION,
            f"durable message echo p50, {what}",
            "ms",
            p50,
            raw50,
            f"{raw_label}: commit p50",
            extra=extra,
        ),
        Row.paired(
            SECTION,
            f"durable message echo p99, {what}",
            "ms",
            p99,
            raw99,
            f"{raw_label}: commit p99",
            extra=extra,
        ),
    ]


# ---- search -----------------------------------------------------------------------------------


def vocabulary(qs: list[str], size: int, rng: np.random.Generator) -> list[str]:
    """Words for generated passages: the questions' own among made-up ones, at random ranks
    of a Zipf law, so some question words are common and some rare, as in a manual."""
    own = sorted({w for q in qs for w in re.findall(r"[a-z]+", q.lower()) if len(w) > 2})
    syllables = ["ka", "lo", "mi", "ra", "te", "su", "no", "vi", "de", "po", "gu", "zen"]
    made: list[str] = []
    while len(made) + len(own) < size:
        n = len(made)
        made.append("".join(syllables[(n // 12**k) % 12] for k in range(4)) + "x")
    words = own + made
    rng.shuffle(words)
    return words


def generated_text(qs: list[str], chunks: int, seed: int) -> str:
    """Markdown of about `chunks` 40-word windows (library/chunking.py's 80 by 40)."""
    rng = np.random.default_rng(seed)
    words = vocabulary(qs, 8000, rng)
    ranks = np.arange(1, len(words) + 1, dtype=np.float64)
    weights = ranks**-1.07
    weights /= weights.sum()
    parts = []
    per_section = 400
    for n in range(max(1, chunks * 40 // per_section)):
        drawn = rng.choice(len(words), size=per_section, p=weights)
        heading = " ".join(words[i] for i in drawn[:3])
        parts.append(f"# {heading} {n}\n\n" + " ".join(words[i] for i in drawn) + "\n")
    return "\n".join(parts)


async def _index(root: Path, db_url: str) -> None:
    from studymate_jupyter.app import StudyMate

    app = StudyMate(db_url=db_url, owner_id=READER, retriever="bm25", instructors=["teacher"])
    services = app.build_services(root)
    try:
        await services.library.add("teacher", "course.md", "course", instructor=True)
        for user in PERSONAL:
            await services.library.add(user, "notes.md")
        await asyncio.sleep(0)
        await services.library.idle.wait()
    finally:
        await services.close()


KEPT_DOCUMENT = (
    "filename, kind, status, error, progress, pages, chunks, size, sha256, created_at, "
    "updated_at, removed_at, vectors, vectors_progress"
)
KEPT_CHUNK = (
    "sha256, seq, page_start, page_end, char_start, char_end, anchor, heading, text, retired"
)


def replicate(db: Database, target: int) -> int:
    """Copy the indexed documents until there are `target` chunks, COURSE_SHARE of them the
    course's; each copy keeps its owner's library."""

    def copy_all(session: Session) -> int:
        def count(owner: str | None = None) -> int:
            sql = "SELECT count(*) FROM chunks"
            if owner is None:
                return int(session.execute(text(sql)).scalar() or 0)
            where = " WHERE user_id = :o" if owner == COURSE_OWNER else " WHERE user_id <> :o"
            return int(session.execute(text(sql + where), {"o": COURSE_OWNER}).scalar() or 0)

        originals = list(session.execute(text("SELECT id, user_id FROM documents")).all())
        course = [o for o in originals if o[1] == COURSE_OWNER]
        personal = [o for o in originals if o[1] != COURSE_OWNER]
        copy = 0
        while count() < target:
            want_course = count(COURSE_OWNER) < COURSE_SHARE * target
            for source, _owner in course if want_course else personal:
                copy += 1
                new = f"copy{copy}-{source}"[:64]
                session.execute(
                    text(
                        f"INSERT INTO documents (id, user_id, path, {KEPT_DOCUMENT}) "
                        f"SELECT :new, user_id, 'copy' || :n || '/' || path, {KEPT_DOCUMENT} "
                        "FROM documents WHERE id = :src"
                    ),
                    {"new": new, "n": str(copy), "src": source},
                )
                session.execute(
                    text(
                        f"INSERT INTO chunks (id, document_id, user_id, {KEPT_CHUNK}) "
                        f"SELECT :prefix || id, :new, user_id, {KEPT_CHUNK} FROM chunks "
                        "WHERE document_id = :src"
                    ),
                    {"prefix": f"c{copy}-", "new": new, "src": source},
                )
                session.execute(
                    text(
                        "INSERT INTO chunk_search (rowid, heading, body, keywords, words) "
                        "SELECT c.rowid, s.heading, s.body, s.keywords, s.words FROM chunks c "
                        # The original by its unique id (an index lookup per copy): joined the
                        # other way, on prefix || o.id, a stale plan once scanned every chunk.
                        "JOIN chunks o ON o.id = substr(c.id, :skip) "
                        "JOIN chunk_search s ON s.rowid = o.rowid WHERE c.document_id = :new"
                    ),
                    {"skip": len(f"c{copy}-") + 1, "new": new},
                )
        return count()

    chunks = db.write_sync(copy_all)
    db.write_sync(lambda s: s.execute(text("ANALYZE")))
    return chunks


def build_library(workdir: Path, sizes: Sizes, url: URL) -> int:
    qs = questions()
    root = workdir / "pg-library"
    root.mkdir(parents=True, exist_ok=True)
    # The originals: a course manual and each user's notes, copied up to the chunk count.
    originals = max(50, min(2000, sizes.pg_chunks // 20))
    (root / "course.md").write_text(generated_text(qs, originals, 1))
    (root / "notes.md").write_text(generated_text(qs, max(10, originals // 4), 2))
    asyncio.run(_index(root, url_text(url)))
    db = Database(url_text(url))
    try:
        chunks = replicate(db, sizes.pg_chunks)
        fill_random_vectors(db)
    finally:
        db.close()
    return chunks


def time_raw(url: URL, qs: list[str]) -> list[float]:
    import psycopg

    from studymate_jupyter.library.pg_search import query_text
    from studymate_jupyter.library.query import query_terms

    out = []
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        for question in qs:
            started = time.perf_counter()
            conn.execute(RAW_SEARCH, (query_text(query_terms(question)),)).fetchall()
            out.append(time.perf_counter() - started)
    return out


def search(workdir: Path, sizes: Sizes, cluster: PostgresCluster) -> list[Row]:
    url = cluster.create_database()
    try:
        chunks = build_library(workdir, sizes, url)
        qs = questions()
        db = Database(url_text(url))
        try:
            hybrid, bm25 = HybridRetriever(), Bm25Retriever()
            warm_encoders(hybrid)
            # Builds the in-memory segments (figure 7's restart).
            time_retriever(db, hybrid, qs[:3], READER)
            time_retriever(db, bm25, qs[:3], READER)
            time_raw(url, qs[:3])
            found: dict[str, dict[int, list[float]]] = {
                name: {50: [], 99: []} for name in ("raw", "bm25", "hybrid")
            }
            for rep in range(sizes.reps):
                order = (qs[rep % len(qs) :] + qs[: rep % len(qs)])[: sizes.hybrid_samples]
                for name, seconds in (
                    ("raw", time_raw(url, order)),
                    ("bm25", time_retriever(db, bm25, order, READER)),
                    ("hybrid", time_retriever(db, hybrid, order, READER)),
                ):
                    for q in (50, 99):
                        found[name][q].append(percentile(seconds, q) * 1000)
        finally:
            db.close()
    finally:
        cluster.drop_database(url)
    extra = {
        "chunks": chunks,
        "library": f"generated Markdown (Zipf words), {COURSE_SHARE:.0%} course, the rest "
        f"{len(PERSONAL)} users' own; searched as {READER}",
        "vectors": "random unit vectors (384 minilm, 256 wordllama) for every chunk",
        "questions": min(len(qs), sizes.hybrid_samples),
    }
    rows = []
    for name in ("bm25", "hybrid"):
        for q in (50, 99):
            rows.append(
                Row.paired(
                    SECTION,
                    f"library search k=5 ({name}) at {chunks:,} chunks on PostgreSQL, "
                    f"course + own, server-side p{q}",
                    "ms",
                    found[name][q],
                    found["raw"][q],
                    "raw tsvector query (GIN, ts_rank, 40 rows)",
                    extra=extra,
                )
            )
    return rows


def run(workdir: Path, sizes: Sizes) -> tuple[list[Row], list[tuple[str, str]]]:
    try:
        cluster = start_cluster()
    except LookupError as exc:
        return [], [(f"{SECTION} PostgreSQL", str(exc))]
    try:
        return writers(workdir, sizes, cluster) + search(workdir, sizes, cluster), []
    finally:
        cluster.remove()
