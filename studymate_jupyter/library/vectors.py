"""The vector step: after a document is searchable by its words, compute its chunks' vectors
in the background, a batch at a time, and let them join the ranking as they are stored.

One document at a time, in the order they were indexed; the encoding runs on a worker
thread and each batch is stored in a short write of its own, so chats never wait for it. The
step works from what is missing in the database, so a restart resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import TYPE_CHECKING

from ..store import library as library_rows
from ..store import vectors as vector_rows
from .encoders import passage_text

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from sqlalchemy.orm import Session

    from ..protocol import Document, VectorStatus
    from ..store.db import Database
    from .encoders import Encoder
    from .retrieval import Retriever

log = logging.getLogger("studymate.library")

# Chunks encoded per batch: MiniLM does about 20 a second on two cores, so a batch is a few
# seconds and progress moves visibly.
BATCH = 64
# Progress frames at most this often per document (the last one always goes out).
PROGRESS_INTERVAL = 0.5


class VectorStep:
    """Owns the background computation of vectors for the retriever's encoders."""

    def __init__(
        self,
        db: Database,
        retriever: Retriever,
        announce: Callable[[str, Document], None],
        *,
        batch: int = BATCH,
    ) -> None:
        self.db = db
        self.retriever = retriever
        self.announce = announce
        self.batch = batch
        self._queue: dict[str, str] = {}  # document id -> user id, in order, no repeats
        self._worker: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()
        self.idle.set()

    @property
    def enabled(self) -> bool:
        return bool(self.retriever.encoders())

    def initial_status(self) -> VectorStatus:
        """What a freshly indexed document's vector step starts as."""
        return "pending" if self.enabled else "off"

    def start(self, user_id: str, document_id: str) -> None:
        """Compute the document's missing vectors, after those already queued."""
        if not self.enabled:
            return
        self._queue[document_id] = user_id
        self.idle.clear()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    def resume(self, owners: Collection[str] | None = None) -> None:
        """Queue the documents whose vector step a stopped server left unfinished: of
        `owners`, or of everyone (None)."""
        if not self.enabled:
            return
        for user_id, document_id in self.db.read_sync(lambda s: vector_rows.pending(s, owners)):
            self.start(user_id, document_id)

    async def _work(self) -> None:
        while self._queue:
            document_id = next(iter(self._queue))
            user_id = self._queue.pop(document_id)
            try:
                await self._vectors_of(user_id, document_id)
            except Exception as exc:
                log.error("computing a document's vectors failed: %s", type(exc).__name__)
                await self._set(user_id, document_id, "failed", 0.0)
        self.idle.set()

    async def _vectors_of(self, user_id: str, document_id: str) -> None:
        encoders = list(self.retriever.encoders())
        announced = 0.0
        for encoder in encoders:
            while True:
                missing = await self.db.read(
                    partial(vector_rows.missing, document_id=document_id, encoder=encoder.name,
                            limit=self.batch)
                )  # fmt: skip
                if not missing:
                    break
                texts = [passage_text(heading, body) for _, heading, body in missing]
                matrix = await asyncio.to_thread(encoder.encode, texts)
                rowids = [rowid for rowid, _, _ in missing]
                document = await self.db.write(
                    partial(self._store, document_id=document_id, encoder=encoder, rowids=rowids,
                            matrix=matrix, encoders=encoders)
                )  # fmt: skip
                if document is None:
                    return  # the document left the library meanwhile
                if time.monotonic() - announced >= PROGRESS_INTERVAL:
                    announced = time.monotonic()
                    self.announce(user_id, document)
        await self._set(user_id, document_id, "ready", 1.0)

    def _store(
        self,
        session: Session,
        document_id: str,
        encoder: Encoder,
        rowids: list[int],
        matrix: object,
        encoders: Sequence[Encoder],
    ) -> Document | None:
        """Store a batch and the step's progress in one write; None when the document left."""
        if not library_rows.is_present(session, document_id):
            return None
        vector_rows.put(session, encoder.name, rowids, matrix)
        self.retriever.vectors_added(session, document_id)
        done = [vector_rows.counts(session, document_id, e.name) for e in encoders]
        return library_rows.set_vectors(session, document_id, "pending", _progress(done, encoders))

    async def _set(
        self, user_id: str, document_id: str, status: VectorStatus, progress: float
    ) -> None:
        document = await self.db.write(
            lambda s: library_rows.set_vectors(s, document_id, status, progress)
        )
        if document is not None:
            self.announce(user_id, document)

    async def shutdown(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)


def _progress(done: list[tuple[int, int]], encoders: Sequence[Encoder]) -> float:
    """Share of the step's work done, each encoder's chunks weighted by its cost (MiniLM
    costs about fifty times wordllama per chunk: progress should move with time)."""
    costs = [encoder.cost for encoder in encoders]
    total = sum(cost * chunks for (_, chunks), cost in zip(done, costs, strict=True))
    finished = sum(cost * count for (count, _), cost in zip(done, costs, strict=True))
    return round(finished / total, 3) if total else 1.0
