"""Live events across servers: on PostgreSQL, what the hub sends to a user's connections (or
to everyone's) also reaches the other servers sharing the database, by LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from ..store.db import Database
    from .hub import Hub

log = logging.getLogger("studymate.events")

CHANNEL = "studymate_events"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more (its default build).
MAX_PAYLOAD = 7999
# What is waiting to be published while the database is away: beyond it the oldest goes.
MAX_OUTBOX = 1000
# Frames whose parts are not all in: a transaction delivers all of its parts together, so
# only a connection lost between them leaves one behind, and reconnecting drops those.
MAX_PARTIAL = 64
RECONNECT_FIRST = 0.25
RECONNECT_MAX = 10.0
STOP_TIMEOUT = 2.0

# The payload is JSON: {"server", "seq", "user" (null: everyone), "frame"}, plus "part" and
# "parts" when the frame is cut. ensure_ascii, so its length in characters is its size in
# bytes, and a frame holding a lone surrogate still encodes.
Envelope = dict[str, Any]


def _encode(envelope: Envelope) -> str:
    return json.dumps(envelope, separators=(",", ":"))


def payloads(server: str, seq: int, user_id: str | None, frame: str) -> list[str]:
    """The notifications that carry one frame: one when it fits in a payload, else its text
    cut into parts, each carrying as much of it as fits."""
    whole: Envelope = {"server": server, "seq": seq, "user": user_id, "frame": frame}
    single = _encode(whole)
    if len(single) <= MAX_PAYLOAD:
        return [single]
    # The part numbers' digits are not known before the frame is cut: room for the most.
    most = 10**6
    budget = MAX_PAYLOAD - len(_encode({**whole, "frame": "", "part": most, "parts": most}))
    if budget < 64:
        raise ValueError("the user id leaves no room for the frame in a notification")
    pieces: list[str] = []
    start = 0
    while start < len(frame):
        # Escaping (quotes, non-ASCII) only grows the text: shrink in proportion until it fits.
        piece = frame[start : start + budget]
        size = len(json.dumps(piece)) - 2
        while size > budget:
            piece = piece[: min(len(piece) - 1, len(piece) * budget // size)]
            size = len(json.dumps(piece)) - 2
        pieces.append(piece)
        start += len(piece)
    return [
        _encode({**whole, "frame": piece, "part": n, "parts": len(pieces)})
        for n, piece in enumerate(pieces)
    ]


class ServerEvents:
    """One LISTENing connection per server process, on its event loop. The hub publishes
    through it once it runs (`start`); what other servers publish is delivered to this
    process's connections only, never published again."""

    def __init__(
        self, db: Database, hub: Hub, forget_document: Callable[[str | None], None]
    ) -> None:
        self.hub = hub
        self.forget_document = forget_document
        # Its own notifications come back to it: the server id tells them apart.
        self.server = uuid.uuid4().hex
        self.where = db.where
        _, params = db.engine.dialect.create_connect_args(db.engine.url)
        # SQLAlchemy's adapters are for its own connections; this one keeps psycopg's.
        self._params: dict[str, Any] = {k: v for k, v in params.items() if k != "context"}
        # It only reads: without keepalives a connection dropped silently (a failover, a
        # network cut) would pass for a quiet one for hours. The URL's own settings win.
        for key, value in (("keepalives_idle", 30), ("keepalives_interval", 10)):
            self._params.setdefault(key, value)
        self._params.setdefault("keepalives_count", 3)
        self._seq = 0
        self._outbox: deque[list[str]] = deque()
        self._wake = asyncio.Event()
        self._partial: dict[tuple[str, int], dict[int, str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @classmethod
    def for_database(
        cls, db: Database, hub: Hub, forget_document: Callable[[str | None], None]
    ) -> ServerEvents | None:
        """The events of a PostgreSQL store; None on SQLite, whose one process needs none.
        The URL is SQLAlchemy's, postgresql+psycopg://..., as the store's."""
        return cls(db, hub, forget_document) if db.engine.dialect.name == "postgresql" else None

    def start(self) -> None:
        """Listen and publish from now on, on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
            self.hub.relay = self

    async def stop(self) -> None:
        """Publish what is waiting (within STOP_TIMEOUT) and close the connection."""
        task, self._task = self._task, None
        if task is None:
            return
        self.hub.relay = None
        self._stopping.set()
        self._wake.set()
        try:
            await asyncio.wait_for(task, STOP_TIMEOUT)
        except TimeoutError:
            log.warning(
                "StudyMate: %d live event(s) for other servers were not sent before the stop",
                len(self._outbox),
            )

    def publish(self, user_id: str | None, frame: str) -> None:
        """Queue a frame for the other servers: to one user's connections, or None: everyone's.
        Callers publish once the write behind the frame has committed."""
        self._seq += 1
        try:
            parts = payloads(self.server, self._seq, user_id, frame)
        except ValueError as exc:
            log.warning("StudyMate: a live event was not sent to the other servers: %s", exc)
            return
        # One entry per frame: its parts go out in one transaction, so they arrive together.
        self._outbox.append(parts)
        while len(self._outbox) > MAX_OUTBOX:
            self._outbox.popleft()
        self._wake.set()

    # ---- the connection ------------------------------------------------------------------

    async def _run(self) -> None:
        import psycopg  # the postgresql extra's: only a PostgreSQL store gets here
        from psycopg import sql

        attempt = 0
        while not self._stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    autocommit=True, **self._params
                ) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    if attempt:
                        # As loud as the loss: whoever saw it stop sees it come back.
                        log.warning(
                            "StudyMate: events from other servers on %s are heard again",
                            self.where,
                        )
                        # A document changed meanwhile would go on being searched as it was.
                        self.forget_document(None)
                    attempt = 0
                    await self._serve(conn)
                return
            except Exception as exc:  # psycopg's errors, and any other: keep going
                self._partial.clear()
                if self._stopping.is_set():
                    return
                delay = min(RECONNECT_MAX, RECONNECT_FIRST * 2**attempt)
                delay *= 1 - 0.5 * random.random()  # servers restarted together spread out
                attempt += 1
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                # db.where hides the password; the driver's errors never hold it either.
                log.warning(
                    "StudyMate: events from other servers on %s stopped (%s); reconnecting in "
                    "%.1f s (what they send meanwhile is not seen here)",
                    self.where,
                    reason,
                    delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)

    async def _serve(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Publish what waits, then hear notifications until more waits or the stop."""
        while True:
            self._wake.clear()
            while self._outbox:
                await self._send(conn, self._outbox[0])
                self._outbox.popleft()  # sent: a lost connection keeps it for the reconnect
            if self._stopping.is_set():
                return
            listening = asyncio.ensure_future(self._receive(conn))
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({listening, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                woken.cancel()
                listening.cancel()  # a wait between notifications: the connection stays usable
                await asyncio.wait({listening})
            error = None if listening.cancelled() else listening.exception()
            if error is not None:
                raise error  # the connection's: _run reconnects

    async def _send(self, conn: psycopg.AsyncConnection[Any], parts: list[str]) -> None:
        import psycopg

        try:
            # One statement, so one transaction: its parts are delivered together or not at all.
            await conn.execute(
                "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (CHANNEL, parts)
            )
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            # Sending it again would fail again and hold up everything behind it.
            log.warning("StudyMate: a live event was not sent to the other servers: %s", exc)

    async def _receive(self, conn: psycopg.AsyncConnection[Any]) -> None:
        # Closed explicitly: a cancelled generator would hold the connection's lock.
        async with contextlib.aclosing(conn.notifies()) as notifies:
            async for notify in notifies:
                self._receive_one(notify.payload)

    # ---- the receiving side ----------------------------------------------------------------

    def _receive_one(self, payload: str) -> None:
        try:
            envelope: Envelope = json.loads(payload)
            server, seq, user_id, frame = (envelope[k] for k in ("server", "seq", "user", "frame"))
            if server == self.server:
                return
            if "parts" in envelope:
                key = (server, seq)
                pieces = self._partial.setdefault(key, {})
                pieces[int(envelope["part"])] = frame
                if len(pieces) < int(envelope["parts"]):
                    while len(self._partial) > MAX_PARTIAL:
                        del self._partial[next(iter(self._partial))]
                    return
                frame = "".join(piece for _, piece in sorted(self._partial.pop(key).items()))
        except (ValueError, KeyError, TypeError):
            log.warning("StudyMate: an event on %s was not StudyMate's; ignored", CHANNEL)
            return
        self._deliver(user_id, frame)

    def _deliver(self, user_id: str | None, frame: str) -> None:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            data = json.loads(frame)
            if data["type"] == "library":
                event = data["data"]
                document = event.get("document")
                # Re-indexed or removed there: the next search here reads it from the database.
                self.forget_document(str(document["id"] if document else event["document_id"]))
        self.hub.deliver(user_id, frame)
