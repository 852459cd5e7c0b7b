"""The study library: add files from the server root, index them in the background, search."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol

from ..identity import COURSE_OWNER
from ..passages import citation_of
from ..protocol import (
    Document,
    DocumentStatus,
    LibraryName,
    Passage,
    ProtocolError,
    RetrievalInfo,
    SearchResult,
    library_removed_frame,
    library_updated_frame,
)
from ..store import library as library_rows
from .chunking import chunk_document
from .errors import IngestError
from .files import FileGone, FileReplaced, open_checked
from .parsers import SUPPORTED_SUFFIXES, kind_for
from .vectors import VectorStep
from .worker import parse_open_document

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..passages import Hit, ParsedDocument, Scope
    from ..store.db import Database
    from .retrieval import Retriever

log = logging.getLogger("studymate.library")

DEFAULT_RESULTS = 5
MAX_RESULTS = 50
MAX_QUESTION = 4096
SNIPPET = 300


def _snippet(text: str) -> str:
    """The passage on one line, cut at a word near SNIPPET characters."""
    snippet = " ".join(text.split())
    if len(snippet) > SNIPPET:
        snippet = snippet[:SNIPPET].rsplit(" ", 1)[0] + " …"
    return snippet


@dataclass(frozen=True)
class IngestLimits:
    max_bytes: int
    timeout: float
    max_memory: int


@dataclass(frozen=True)
class IngestJob:
    user_id: str
    document_id: str
    path: Path  # resolved, inside the root: opened with open_checked, never followed
    sha256: str


class Notifier(Protocol):
    """Where the library announces a document's changes: every connection of its owner (the
    chat hub, in the server)."""

    def to_user(self, user_id: str, frame: str) -> None: ...

    def to_everyone(self, frame: str) -> None:
        """Every connection of every user (a course document's changes)."""


class LibraryService:
    """Owns ingestion (one document at a time, off the event loop) and search."""

    def __init__(
        self,
        db: Database,
        notifier: Notifier,
        root_dir: Path,
        retriever: Retriever,
        limits: IngestLimits,
    ) -> None:
        self.db = db
        self.notifier = notifier
        self.root = root_dir.resolve()
        self.retriever = retriever
        self.limits = limits
        self._jobs: asyncio.Queue[IngestJob] | None = None
        self._worker: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()
        self.idle.set()
        self.vectors = VectorStep(db, retriever, self._announce)
        self._warming: asyncio.Task[None] | None = None

    # ---- paths -------------------------------------------------------------------------------

    def resolve(self, relative: str) -> tuple[str, Path]:
        """(normalized relative path, real file) for a path the user gave, or ProtocolError."""
        if not relative.strip() or "\x00" in relative:
            raise ProtocolError("bad_request", "path is empty")
        rel = self._under_root(PurePosixPath(relative.replace("\\", "/")))
        if rel.is_absolute() or ".." in rel.parts:
            raise ProtocolError("forbidden", "path must stay inside the server's root directory")
        if any(part.startswith(".") for part in rel.parts):
            raise ProtocolError("forbidden", "hidden files and folders are not added")
        if rel.suffix.lower() not in SUPPORTED_SUFFIXES:
            kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
            raise ProtocolError("bad_request", f"unsupported file type; supported: {kinds}")
        try:
            real = (self.root / rel).resolve(strict=True)
        except (OSError, RuntimeError):
            raise ProtocolError("not_found", "no such file") from None
        if not real.is_relative_to(self.root):
            # A symlink that leads out of the root.
            raise ProtocolError("forbidden", "path must stay inside the server's root directory")
        if not real.is_file():
            raise ProtocolError("bad_request", "not a file")
        return rel.as_posix(), real

    def _under_root(self, path: PurePosixPath) -> PurePosixPath:
        """An absolute path inside the root as a relative one (a kernel knows its notebook's
        absolute path, not the root's); any other path as it is, for the checks to judge."""
        if not path.is_absolute():
            return path
        for candidate in (Path(path), Path(os.path.realpath(path))):
            with contextlib.suppress(ValueError):
                return PurePosixPath(candidate.relative_to(self.root).as_posix())
        return path

    # ---- documents ---------------------------------------------------------------------------

    async def add(
        self,
        user_id: str,
        relative: str,
        library: LibraryName = "personal",
        *,
        instructor: bool = False,
    ) -> Document:
        """Add (or re-add) a file to the user's library or, for an instructor, the course's;
        indexing continues in the background."""
        owner = self._owner(user_id, library, instructor)
        path, real = self.resolve(relative)
        try:
            size, sha256 = await asyncio.to_thread(_size_and_hash, self.root, real)
        except FileReplaced as exc:
            raise ProtocolError("forbidden", exc.reason) from None
        except FileGone:
            raise ProtocolError("not_found", "no such file") from None
        except IngestError as exc:
            raise ProtocolError("forbidden", exc.reason) from None  # no permission to read it
        kind = kind_for(real)
        upserted = await self.db.write(
            lambda s: library_rows.upsert_document(s, owner, path, kind, size, sha256)
        )
        document = upserted.document
        if upserted.change != "unchanged":
            self._announce(owner, document)
            self._enqueue(IngestJob(owner, document["id"], real, sha256))
        return document

    @staticmethod
    def _owner(user_id: str, library: LibraryName, instructor: bool) -> str:
        if library == "personal":
            return user_id
        if not instructor:
            raise ProtocolError("forbidden", "only instructors can change the course library")
        return COURSE_OWNER

    async def list_documents(self, user_id: str) -> list[Document]:
        return await self.db.read(lambda s: library_rows.list_documents(s, user_id))

    async def get(self, user_id: str, document_id: str) -> Document:
        document = await self.db.read(lambda s: library_rows.get_document(s, user_id, document_id))
        if document is None:
            raise ProtocolError("not_found", "no such document")
        return document

    async def remove(self, user_id: str, document_id: str, *, instructor: bool = False) -> None:
        """Remove one of the user's documents or, for an instructor, a course document."""
        owner = self._owner(user_id, (await self.get(user_id, document_id))["library"], instructor)

        def remove(session: Session) -> bool:
            rowids = library_rows.remove_document(session, owner, document_id)
            if rowids is None:
                return False
            self.retriever.unindex(session, rowids)
            return True

        if not await self.db.write(remove):
            raise ProtocolError("not_found", "no such document")
        self._notify(owner, library_removed_frame(document_id))

    async def passage(self, user_id: str, document_id: str, chunk_id: str) -> Passage:
        found = await self.db.read(
            lambda s: library_rows.get_passage(s, user_id, document_id, chunk_id)
        )
        if found is None:
            raise ProtocolError("not_found", "no such passage")
        return found

    async def search(
        self, user_id: str, question: str, k: int, scope: Scope | None = None
    ) -> list[Hit]:
        return await self.db.read(lambda s: self.retriever.search(s, user_id, question, k, scope))

    async def search_results(
        self, user_id: str, question: str, k: int | None = None
    ) -> list[SearchResult]:
        """``GET search``: the k best passages as citations with a snippet of their text."""
        k = DEFAULT_RESULTS if k is None else k
        if not 1 <= k <= MAX_RESULTS:
            raise ProtocolError("bad_request", f"k must be an integer from 1 to {MAX_RESULTS}")
        if len(question) > MAX_QUESTION:
            raise ProtocolError("too_large", "the question is too long")
        hits = await self.search(user_id, question, k)
        return [{**citation_of(hit), "snippet": _snippet(hit.text)} for hit in hits]

    def retrieval_info(self) -> RetrievalInfo:
        """``GET retrieval``: how passages are ranked, and what is missing, if anything."""
        return self.retriever.info()

    async def has_documents(self, user_id: str) -> bool:
        return await self.db.read(lambda s: library_rows.has_ready(s, user_id))

    # ---- ingestion ---------------------------------------------------------------------------

    def resume(self, owners: Collection[str] | None = None) -> None:
        """Queue again what a stopped server left queued or indexing, and unfinished vectors:
        of `owners` (the users this server serves), or of everyone in the database (None)."""
        pending = self.db.read_sync(lambda s: library_rows.pending_documents(s, owners))
        for owner, document_id, path, sha256 in pending:
            try:
                _, real = self.resolve(path)
            except ProtocolError:
                if owners is not None and owner == COURSE_OWNER:
                    continue  # another server's file: the server that added it resumes it
                real = self.root / path  # opening it fails the document with a reason
            self._enqueue(IngestJob(owner, document_id, real, sha256))
        self.vectors.resume(owners)
        # Search's in-memory indexes, built before the first question asks for them.
        self._warming = asyncio.get_running_loop().create_task(self._warm())

    async def _warm(self) -> None:
        try:
            await self.db.read(self.retriever.warm)
        except Exception as exc:  # search builds what it needs itself, only later
            log.error("preparing search at start failed: %s", type(exc).__name__)

    def _enqueue(self, job: IngestJob) -> None:
        if self._jobs is None:
            self._jobs = asyncio.Queue()
        self._jobs.put_nowait(job)
        self.idle.clear()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work(self._jobs))

    async def _work(self, jobs: asyncio.Queue[IngestJob]) -> None:
        while not jobs.empty():
            job = jobs.get_nowait()
            try:
                await self._ingest(job)
            except Exception as exc:
                log.error("indexing a document failed: %s", type(exc).__name__)
                await self._set(job, "failed", error="the document could not be indexed")
        self.idle.set()

    async def _ingest(self, job: IngestJob) -> None:
        if await self._set(job, "indexing", progress=0.05) is None:
            return  # removed while it waited
        try:
            parsed = await asyncio.to_thread(self._parse, job.path)
        except IngestError as exc:
            await self._set(job, "failed", error=exc.reason)
            return
        await self._set(job, "indexing", progress=0.5, pages=parsed.pages)
        chunks = await asyncio.to_thread(chunk_document, parsed)
        prepared = await asyncio.to_thread(self.retriever.prepare, chunks)

        def store(session: Session) -> Document | None:
            replaced = library_rows.replace_chunks(
                session, job.document_id, job.sha256, parsed.pages, chunks
            )
            if replaced is None:
                return None
            self.retriever.unindex(session, replaced.retired)
            self.retriever.index(session, replaced.added, chunks, prepared)
            vectors = self.vectors.initial_status()
            return library_rows.set_vectors(session, job.document_id, vectors, 0.0)

        document = await self.db.write(store)
        if document is not None:
            self._announce(job.user_id, document)
            self.vectors.start(job.user_id, job.document_id)

    def _parse(self, real: Path) -> ParsedDocument:
        """Open the checked file once and parse that open file in the worker's child: a
        symlink swapped in since resolve() is refused here, not followed."""
        kind = kind_for(real)
        fd = open_checked(self.root, real)
        try:
            limits = self.limits
            return parse_open_document(
                fd,
                real,
                kind,
                max_bytes=limits.max_bytes,
                timeout=limits.timeout,
                max_memory=limits.max_memory,
            )
        finally:
            os.close(fd)

    async def _set(
        self,
        job: IngestJob,
        status: DocumentStatus,
        *,
        progress: float = 0.0,
        error: str | None = None,
        pages: int | None = None,
    ) -> Document | None:
        document = await self.db.write(
            lambda s: library_rows.set_status(
                s, job.document_id, status, progress=progress, error=error, pages=pages
            )
        )
        if document is not None:
            self._announce(job.user_id, document)
        return document

    def _announce(self, owner: str, document: Document) -> None:
        self._notify(owner, library_updated_frame(document))

    def _notify(self, owner: str, frame: str) -> None:
        """To the owner's connections; a course document's changes to everyone's."""
        if owner == COURSE_OWNER:
            self.notifier.to_everyone(frame)
        else:
            self.notifier.to_user(owner, frame)

    async def shutdown(self) -> None:
        if self._warming is not None:
            await asyncio.gather(self._warming, return_exceptions=True)
        await self.vectors.shutdown()
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)


def _size_and_hash(root: Path, real: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(open_checked(root, real), "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()
