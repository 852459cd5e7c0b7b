"""The one object that owns the database: reads off the event loop, writes through one path."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from ..protocol import ProtocolError
from . import schema

T = TypeVar("T")
Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
# A batch is bounded so one flood of writes cannot hold the writer for long.
MAX_BATCH = 256

log = logging.getLogger("studymate.store")

# SQLite's primary result codes for a write that may work once its cause goes, in plain words.
NOT_NOW = {
    5: "the database is locked by another program",  # SQLITE_BUSY, past busy_timeout
    6: "the database is locked",  # SQLITE_LOCKED
    8: "the database is read-only",  # SQLITE_READONLY
    10: "the disk holding the database failed to write",  # SQLITE_IOERR
    13: "the disk holding the database is full",  # SQLITE_FULL
    14: "the database file cannot be opened",  # SQLITE_CANTOPEN
}

# PostgreSQL's SQLSTATE classes and codes for the same: the server went away or cannot take
# writes now. A connection that never opened (refused, reset) has no SQLSTATE at all.
NOT_NOW_POSTGRESQL = {
    "08": "the database server cannot be reached",  # connection_exception
    "57P01": "the database server is shutting down",  # admin_shutdown
    "57P02": "the database server is shutting down",  # crash_shutdown
    "57P03": "the database server is not accepting connections now",  # cannot_connect_now
    "53100": "the disk holding the database is full",  # disk_full
    "53300": "the database server has too many connections",  # too_many_connections
    "25006": "the database is read-only",  # read_only_sql_transaction (a standby)
}


def not_now(exc: DBAPIError) -> str | None:
    """Why a failed write may work later, in plain words; None for a failure that would not."""
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return NOT_NOW.get(code & 0xFF)
    if not type(orig).__module__.startswith("psycopg"):
        return None  # neither SQLite nor psycopg: not a driver we know how to read
    sqlstate: str | None = getattr(orig, "sqlstate", None)
    if sqlstate is None:
        # psycopg raises OperationalError without a SQLSTATE when the server is not there.
        return NOT_NOW_POSTGRESQL["08"] if isinstance(exc, OperationalError) else None
    return NOT_NOW_POSTGRESQL.get(sqlstate) or NOT_NOW_POSTGRESQL.get(sqlstate[:2])


class UnusableDatabase(Exception):
    """The database cannot be StudyMate's; the message says why, in one line of plain words."""


def newer(where: str, exc: schema.NewerSchema) -> UnusableDatabase:
    return UnusableDatabase(
        f"{where} was written by a newer StudyMate ({exc}): upgrade StudyMate or give another "
        "db_url"
    )


def check_sqlite_file(path: Path) -> None:
    """Raise UnusableDatabase unless `path` can be a StudyMate database. The file is only
    read, with no pragma, so one that is refused (a newer StudyMate's) is left as it was."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnusableDatabase(
            f"the folder {path.parent} cannot be created ({exc.strerror})"
        ) from None
    if path.is_dir():
        raise UnusableDatabase(f"{path} is a directory, not a database file")
    if not path.exists():
        return  # a new database: the revisions build it
    # Not mode=ro: a read-only connection to a WAL file leaves its -wal and -shm behind.
    probe = create_engine("sqlite://", creator=lambda: sqlite3.connect(path))
    try:
        with probe.connect() as conn:
            schema.check(conn)
    except DBAPIError as exc:
        raise UnusableDatabase(f"{path} is not a SQLite database ({exc.orig})") from None
    except schema.NewerSchema as exc:
        raise newer(str(path), exc) from None
    finally:
        probe.dispose()


class Database:
    """Owns the engine. `read` runs on a small thread pool; `write` on a single writer thread.

    Writes submitted while the writer is busy are committed together in one transaction (each in
    its own savepoint, so one failing job does not undo the others): with many concurrent
    writers this turns N fsyncs into one, and every caller is answered only after the commit.
    """

    def __init__(
        self,
        url: str,
        *,
        synchronous: Synchronous = "NORMAL",
        busy_timeout_ms: int = 5000,
        read_threads: int = 4,
    ) -> None:
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            check_sqlite_file(Path(parsed.database))
        self.engine = self._engine(url, synchronous, busy_timeout_ms, immediate=False)
        # Writes get their own engine whose transactions start IMMEDIATE: they take the write
        # lock up front, so two processes sharing the file (the server and an in-process
        # widget) wait on busy_timeout instead of failing half-way through a transaction.
        self._write_engine = self._engine(url, synchronous, busy_timeout_ms, immediate=True)
        # The URL as every message shows it: never with its password.
        self.where = where = parsed.render_as_string(hide_password=True)
        try:
            with self._write_engine.begin() as conn:
                # The revision the database is at, by its number ("7"): the schema version.
                self.revision = schema.upgrade(conn)
        except (DBAPIError, schema.NewerSchema) as exc:
            self.engine.dispose()
            self._write_engine.dispose()
            if isinstance(exc, schema.NewerSchema):
                raise newer(where, exc) from None
            raise UnusableDatabase(f"{where} cannot be opened ({exc.orig})") from None
        self.schema_version = int(self.revision)
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix="studymate-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="studymate-write")
        # On SQLite the writer thread keeps one connection for its life: checking one out of
        # the pool for each batch, and resetting it on the way back, cost as much as a user
        # message's own statements. (PostgreSQL's come from the pool, pinged before use, so
        # one a database restart closed is replaced.)
        self._writer_connection: Connection | None = None
        self._pending: list[tuple[Callable[[Session], Any], asyncio.Future[Any]]] = []
        self._flushing = False

    def _engine(
        self, url: str, synchronous: Synchronous, busy_timeout_ms: int, *, immediate: bool
    ) -> Engine:
        if not self.is_sqlite:
            # pre_ping: a pooled connection a database restart closed is replaced before use,
            # instead of failing the first read or write after the restart.
            return create_engine(url, pool_pre_ping=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Leave transaction control to the "begin" hook below, not pysqlite's implicit one.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    # ---- reads -----------------------------------------------------------------------------

    async def read(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` on a reader thread and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, fn)

    def read_sync(self, fn: Callable[[Session], T]) -> T:
        with Session(self.engine) as session:
            return fn(session)

    # ---- writes ----------------------------------------------------------------------------

    async def write(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in the next write transaction; return once it is committed.
        A write the database cannot take now (locked, read-only, full) raises
        ProtocolError("unavailable"), as does a PostgreSQL server that is down or shutting down:
        every REST answer and frame that needed it says so."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((fn, future))
        if not self._flushing:
            self._flushing = True
            self._next_batch(loop)
        try:
            return await future
        except DBAPIError as exc:
            reason = not_now(exc)
            if reason is None:
                raise
            log.warning("StudyMate could not write: %s", reason)
            raise ProtocolError("unavailable", f"nothing was stored: {reason}") from None

    def write_sync(self, fn: Callable[[Session], T]) -> T:
        """Blocking write in its own transaction, for code that runs outside an event loop."""
        with Session(self._write_engine) as session:
            result = fn(session)
            session.commit()
            return result

    def _next_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hand the writes waiting now to the writer thread, as one batch. Called as a write
        arrives when the writer is idle (not from a task: that would cost a turn of the loop
        before the writer starts), and as each batch ends while more are waiting."""
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        ran = loop.run_in_executor(self._writer, self._run_batch, batch)
        ran.add_done_callback(lambda done: self._settle(loop, batch, done))

    def _settle(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[tuple[Callable[[Session], Any], asyncio.Future[Any]]],
        ran: asyncio.Future[list[tuple[bool, Any]]],
    ) -> None:
        try:
            outcomes = ran.result()
        except (Exception, asyncio.CancelledError) as exc:
            # The commit itself failed: nothing in the batch was stored.
            log.error("write batch failed: %s", type(exc).__name__)
            outcomes = [(False, exc)] * len(batch)
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        if self._pending:
            self._next_batch(loop)
        else:
            self._flushing = False

    def _run_batch(
        self, batch: list[tuple[Callable[[Session], Any], Any]]
    ) -> list[tuple[bool, Any]]:
        if len(batch) > 1:
            # Jobs almost never fail, and a savepoint per job doubled a batch's cost: run them
            # all in one plain transaction first, and only when one raises, roll that back and
            # run the batch again with a savepoint per job, so the others are still stored.
            # Nothing is committed twice: the first try commits only if every job succeeded.
            with self._batch_session() as session:
                try:
                    outcomes = [(True, self._job(session, fn)) for fn, _ in batch]
                except OperationalError as exc:
                    # The database cannot take writes now (locked, full): nor could a retry.
                    session.rollback()
                    return [(False, exc)] * len(batch)
                except Exception:
                    session.rollback()
                else:
                    session.commit()
                    return outcomes
        outcomes = []
        with self._batch_session() as session:
            if len(batch) == 1:
                # Alone in its transaction: a failure rolls back just this job, no savepoint.
                try:
                    outcomes.append((True, batch[0][0](session)))
                except Exception as exc:
                    session.rollback()
                    return [(False, exc)]
            else:
                for fn, _ in batch:
                    try:
                        with session.begin_nested():
                            outcomes.append((True, self._job(session, fn)))
                    except Exception as exc:
                        outcomes.append((False, exc))
            session.commit()
        return outcomes

    @contextmanager
    def _batch_session(self) -> Iterator[Session]:
        """A session for one batch, on the writer thread."""
        if not self.is_sqlite:
            with Session(self._write_engine) as session:
                yield session
            return
        if self._writer_connection is None:
            self._writer_connection = self._write_engine.connect()
        try:
            # The session begins, commits and rolls back its transaction on this connection,
            # as on one of its own.
            with Session(bind=self._writer_connection) as session:
                yield session
        except BaseException:
            # A batch that failed past its jobs' own handling may leave the connection in
            # doubt: the next batch gets a fresh one.
            self._close_writer_connection()
            raise

    def _close_writer_connection(self) -> None:
        connection, self._writer_connection = self._writer_connection, None
        if connection is not None:
            connection.close()

    @staticmethod
    def _job(session: Session, fn: Callable[[Session], Any]) -> Any:
        # Jobs share the session, and Core statements bypass its identity map: nothing one
        # job loaded may be seen stale by the next.
        session.expire_all()
        return fn(session)

    def close(self) -> None:
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        self._close_writer_connection()
        self.engine.dispose()
        self._write_engine.dispose()
