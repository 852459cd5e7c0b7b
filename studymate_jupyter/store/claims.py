"""Claims on chats, held in the database: one reply at a time per chat across servers.

On PostgreSQL many servers share one database (a course on JupyterHub, one user with two named
servers), so what keeps a chat's replies one at a time must be in the database too. A claim
is a session-level advisory lock on one connection of the server's own, taken before a reply's
row is stored and released once its final state is. A server that dies takes its connection
and so its claims with it: a streaming reply in a chat nobody holds is one that nobody will
finish. SQLite is one process per file: its claims cost nothing and are always held.

A claim connection that drops (the database restarted) is replaced, and the chats it held are
claimed again at once. Other servers wait a grace period after their own reconnection before
claiming anything new, so a holder gets its chats back first. A chat that someone else took
in the meantime is lost: the server is told (`on_lost`), and ends that reply as failed with
what it had, as a shutdown would, rather than go on beside the other server's reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from psycopg import AsyncConnection

log = logging.getLogger("studymate.claims")

# A claim someone else holds is asked for again after FIRST_POLL, then twice as long each time
# up to LAST_POLL: a reply takes seconds, so the wait costs a few round trips a second.
FIRST_POLL = 0.01
LAST_POLL = 0.2
# While claims are held, the connection is checked this often, so a lost one is noticed
# (and its claims taken back) within about this long.
HEARTBEAT = 1.0
# A check not answered in this long means the connection is gone (a network that went away
# silently); the database drops our session, and its claims, by its own keepalives below.
ANSWER_WITHIN = 10.0
# After its own reconnection a server claims nothing new for this long: holders whose claims
# the same restart dropped take them back first (their heartbeat notices within HEARTBEAT).
RECLAIM_GRACE = 3 * HEARTBEAT
# The database drops a claim connection whose peer went silent within about 25 s, instead of
# holding its claims for the operating system's default of two hours.
KEEPALIVES = (
    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3"
)

_TRY = "SELECT pg_try_advisory_lock(%s)"
_UNLOCK = "SELECT pg_advisory_unlock(%s)"
_TRY_ALL = "SELECT k FROM unnest(%s::bigint[]) AS k WHERE pg_try_advisory_lock(k)"
# Held until the transaction ends: a claim that lasts exactly as long as what it guards.
_TRY_ALL_IN_TRANSACTION = text(
    "SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k WHERE pg_try_advisory_xact_lock(k)"
)


def claim_key(chat_id: str) -> int:
    """The chat's advisory lock key, the same in every process and release: the first 8 bytes
    of the id's SHA-256 as a signed 64-bit integer."""
    return int.from_bytes(hashlib.sha256(chat_id.encode()).digest()[:8], "big", signed=True)


def is_shared(session: Session) -> bool:
    """True when other processes may be replying in this database (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


def claimable(session: Session, chat_ids: Collection[str]) -> set[str]:
    """The chats among `chat_ids` that no live server holds, claimed until the session's
    transaction ends (so what it writes about them is committed before anyone claims them)."""
    if not chat_ids or not is_shared(session):
        return set(chat_ids)
    by_key: dict[int, list[str]] = {}
    for chat_id in chat_ids:
        by_key.setdefault(claim_key(chat_id), []).append(chat_id)
    rows = session.execute(_TRY_ALL_IN_TRANSACTION, {"keys": list(by_key)})
    return {chat_id for (key,) in rows for chat_id in by_key[key]}


class ChatClaims(Protocol):
    """What Replies needs: a chat claimed for the whole of a reply."""

    @property
    def shared(self) -> bool:
        """True when other processes may be replying in the same chats."""
        ...

    async def claim(self, chat_id: str) -> None:
        """Return once this server holds the chat (at once when nobody else does)."""
        ...

    async def release(self, chat_id: str) -> None:
        """Let the chat go (nothing when it was lost meanwhile)."""
        ...

    def holds(self, chat_id: str) -> bool:
        """True from `claim` until `release`, unless the claim was lost in between."""
        ...

    async def close(self) -> None:
        """Let every chat go."""
        ...


class OneProcess:
    """SQLite's claims: one process per file, whose replies Replies already orders."""

    shared = False

    async def claim(self, chat_id: str) -> None:
        return

    async def release(self, chat_id: str) -> None:
        return

    def holds(self, chat_id: str) -> bool:
        return True

    async def close(self) -> None:
        return


class AdvisoryLocks:
    """PostgreSQL's claims: advisory locks on one connection of this server's own, on its loop."""

    shared = True

    def __init__(
        self,
        connect: Callable[[], Awaitable[AsyncConnection[Any]]],
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        import psycopg  # the postgresql extra's, which a PostgreSQL URL needs already

        # What a connection that went away raises (InterfaceError: used once closed).
        self._gone = (psycopg.OperationalError, psycopg.InterfaceError)
        self._connect = connect
        self.on_lost = on_lost
        self._conn: AsyncConnection[Any] | None = None
        self._connected_before = False
        self._reconnected_at: float | None = None
        self._connecting = asyncio.Lock()
        # Each held chat and the connection it is held on: a claim made on a connection that has
        # since dropped is gone, whatever the connection that replaced it holds.
        self._held: dict[str, AsyncConnection[Any]] = {}
        self._keeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._closed = False

    async def claim(self, chat_id: str) -> None:
        wait = FIRST_POLL
        while True:
            if self._reconnected_at is not None:
                grace = self._reconnected_at + RECLAIM_GRACE - time.monotonic()
                if grace > 0:
                    await asyncio.sleep(grace)
            attempt = asyncio.ensure_future(self._take(chat_id))
            try:
                if await asyncio.shield(attempt):
                    return
            except asyncio.CancelledError:
                # The lock may be granted all the same: let it go once the answer comes.
                attempt.add_done_callback(lambda done: self._let_go_if_taken(chat_id, done))
                raise
            except self._gone:
                if self._closed:
                    raise
                # The database is away: asked again when it may be back.
            await asyncio.sleep(wait)
            wait = min(2 * wait, LAST_POLL)

    async def release(self, chat_id: str) -> None:
        conn = self._held.pop(chat_id, None)
        if conn is None or conn is not self._conn:
            return  # lost, or gone with the connection it was held on
        # Shielded: a cancelled unlock would leave the chat held for as long as we live.
        unlocked = asyncio.ensure_future(self._ask(conn, _UNLOCK, (claim_key(chat_id),)))
        with contextlib.suppress(*self._gone):  # the lock went with the connection
            await asyncio.shield(unlocked)

    def holds(self, chat_id: str) -> bool:
        return chat_id in self._held

    async def close(self) -> None:
        self._closed = True
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        await asyncio.gather(*self._background, return_exceptions=True)
        self._held.clear()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    # ---- the connection --------------------------------------------------------------------

    async def _connection(self) -> AsyncConnection[Any]:
        async with self._connecting:
            if self._conn is None or self._conn.closed:
                if self._closed:
                    raise self._gone[1]("the chat claims are closed")
                self._conn = conn = await self._connect()
                await conn.execute(KEEPALIVES)
                if self._connected_before:
                    self._reconnected_at = time.monotonic()
                    # As loud as the loss: whoever saw it go sees it come back.
                    log.warning("StudyMate: the connection holding chat claims is back")
                self._connected_before = True
            return self._conn

    async def _ask(
        self, conn: AsyncConnection[Any], query: str, params: tuple[object, ...] = ()
    ) -> list[Any]:
        try:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()
        except self._gone:
            await self._drop(conn)
            raise

    async def _drop(self, conn: AsyncConnection[Any]) -> None:
        if self._conn is conn:
            self._conn = None
            log.warning("StudyMate: the connection holding chat claims was lost")
        await conn.close()

    async def _take(self, chat_id: str) -> bool:
        conn = await self._connection()
        ((granted,),) = await self._ask(conn, _TRY, (claim_key(chat_id),))
        if granted:
            self._held[chat_id] = conn
            self._watch()
        return bool(granted)

    def _let_go_if_taken(self, chat_id: str, attempt: asyncio.Future[bool]) -> None:
        if attempt.cancelled() or attempt.exception() is not None or not attempt.result():
            return
        task = asyncio.ensure_future(self.release(chat_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- keeping what is held --------------------------------------------------------------

    def _watch(self) -> None:
        if self._keeper is None:
            self._keeper = asyncio.ensure_future(self._keep())

    async def _keep(self) -> None:
        pause = HEARTBEAT
        try:
            while self._held and not self._closed:
                await asyncio.sleep(pause)
                pause = HEARTBEAT
                was = self._conn
                try:
                    conn = await self._connection()
                    stale = [chat for chat, held_on in self._held.items() if held_on is not conn]
                    if stale:
                        await self._reclaim(conn, stale)
                    else:
                        await asyncio.wait_for(self._ask(conn, "SELECT 1"), ANSWER_WITHIN)
                except TimeoutError:
                    if self._conn is not None:
                        await self._drop(self._conn)
                    pause = 0
                except self._gone:
                    # Lost just now: connect again at once, the sooner to claim back. A
                    # database that is not back yet is tried again a beat later.
                    if was is not None:
                        pause = 0
        finally:
            self._keeper = None

    async def _reclaim(self, conn: AsyncConnection[Any], chats: list[str]) -> None:
        by_key = {claim_key(chat): chat for chat in chats}
        rows = await self._ask(conn, _TRY_ALL, (list(by_key),))
        granted = {by_key[key] for (key,) in rows}
        for chat in chats:
            if chat in granted:
                if chat in self._held:
                    self._held[chat] = conn
                else:
                    # Released while it was being taken back: let it go again.
                    await self._ask(conn, _UNLOCK, (claim_key(chat),))
            elif self._held.pop(chat, None) is not None:
                log.warning(
                    "StudyMate: another server claimed chat %s while the connection holding "
                    "its claim was lost; its reply in progress ends as failed",
                    chat,
                )
                if self.on_lost is not None:
                    self.on_lost(chat)


def claims_for(engine: Engine, on_lost: Callable[[str], None] | None = None) -> ChatClaims:
    """The claims the database behind `engine` needs: advisory locks on PostgreSQL, on a
    connection made with the engine's own arguments; none on SQLite."""
    if engine.dialect.name != "postgresql":
        return OneProcess()
    import psycopg

    args, kwargs = engine.dialect.create_connect_args(engine.url)
    # What the URL says wins; what it leaves out, the claim connection sets.
    kwargs = {"connect_timeout": 10, "application_name": "studymate chat claims", **kwargs}

    async def connect() -> AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(*args, autocommit=True, **kwargs)

    return AdvisoryLocks(connect, on_lost)
