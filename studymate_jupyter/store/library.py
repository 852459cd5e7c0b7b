"""Documents and chunks repository: the only code that reads or writes those tables.

A user reads their own documents and the course library's (owned by COURSE_OWNER); another
user's document behaves as absent. Removing a document or re-indexing a changed file
retires its chunks (out of the search index, kept for the citations that quote them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import delete, select, update

from ..passages import library_of, readable_by, section_title
from .models import ChunkRow, DocumentRow
from .stamps import new_id, now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..passages import Chunk
    from ..protocol import Document, DocumentStatus, Passage, VectorStatus

Change = Literal["new", "changed", "unchanged"]


def document_dict(row: DocumentRow) -> Document:
    return {
        "id": row.id,
        "path": row.path,
        "filename": row.filename,
        "kind": row.kind,
        "status": row.status,  # type: ignore[typeddict-item]  # written from DocumentStatus
        "error": row.error,
        "progress": row.progress,
        "pages": row.pages,
        "chunks": row.chunks,
        "size": row.size,
        "sha256": row.sha256,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "vectors": row.vectors,  # type: ignore[typeddict-item]  # written from VectorStatus
        "vectors_progress": row.vectors_progress,
        "library": library_of(row.user_id),
    }


def _present(session: Session, owners: Collection[str], document_id: str) -> DocumentRow | None:
    row = session.get(DocumentRow, document_id)
    if row is None or row.user_id not in owners or row.removed_at is not None:
        return None
    return row


@dataclass(frozen=True)
class Upserted:
    document: Document
    change: Change


def upsert_document(
    session: Session, owner: str, path: str, kind: str, size: int, sha256: str
) -> Upserted:
    """Register a file (again) in its owner's library (a user's, or COURSE_OWNER for the
    course). An unchanged, indexed file is left alone."""
    row = session.scalar(
        select(DocumentRow).where(
            DocumentRow.user_id == owner,
            DocumentRow.path == path,
            DocumentRow.removed_at.is_(None),
        )
    )
    stamp = now()
    if row is None:
        row = DocumentRow(
            id=new_id(),
            user_id=owner,
            path=path,
            filename=path.rsplit("/", 1)[-1],
            kind=kind,
            status="queued",
            error=None,
            progress=0.0,
            pages=0,
            chunks=0,
            size=size,
            sha256=sha256,
            created_at=stamp,
            updated_at=stamp,
        )
        session.add(row)
        session.flush()
        return Upserted(document_dict(row), "new")
    if row.sha256 == sha256 and row.status in ("queued", "indexing", "ready"):
        return Upserted(document_dict(row), "unchanged")
    row.size, row.sha256, row.kind = size, sha256, kind
    row.status, row.error, row.progress, row.updated_at = "queued", None, 0.0, stamp
    session.flush()
    return Upserted(document_dict(row), "changed")


def set_status(
    session: Session,
    document_id: str,
    status: DocumentStatus,
    *,
    progress: float = 0.0,
    error: str | None = None,
    pages: int | None = None,
) -> Document | None:
    row = session.get(DocumentRow, document_id)
    if row is None or row.removed_at is not None:
        return None
    row.status, row.progress, row.error, row.updated_at = status, progress, error, now()
    if pages is not None:
        row.pages = pages
    session.flush()
    return document_dict(row)


def is_present(session: Session, document_id: str) -> bool:
    """Whether the document is (still) in its owner's library."""
    row = session.get(DocumentRow, document_id)
    return row is not None and row.removed_at is None


def set_vectors(
    session: Session, document_id: str, vectors: VectorStatus, progress: float
) -> Document | None:
    """Record the document's vector step; None when it was removed meanwhile."""
    row = session.get(DocumentRow, document_id)
    if row is None or row.removed_at is not None:
        return None
    row.vectors, row.vectors_progress = vectors, progress
    session.flush()
    return document_dict(row)


@dataclass(frozen=True)
class Replaced:
    document: Document
    retired: list[int]
    added: list[int]


def replace_chunks(
    session: Session, document_id: str, sha256: str, pages: int, chunks: list[Chunk]
) -> Replaced | None:
    """Retire the document's indexed chunks and store new ones (rowids of both returned).

    None when the document was removed or changed again while it was being parsed.
    """
    row = session.get(DocumentRow, document_id)
    if row is None or row.removed_at is not None or row.sha256 != sha256:
        return None
    retired = retire_chunks(session, document_id)
    # Identical content gets identical chunk ids: the new rows take over from retired twins.
    session.execute(
        delete(ChunkRow).where(ChunkRow.document_id == document_id, ChunkRow.sha256 == sha256)
    )
    rows = [
        ChunkRow(
            id=chunk_id(document_id, sha256, chunk.index),
            document_id=document_id,
            user_id=row.user_id,
            sha256=sha256,
            seq=chunk.index,
            page_start=chunk.page_start,
            page_end=chunk.page_end,
            char_start=chunk.char_start,
            char_end=chunk.char_end,
            anchor=chunk.anchor,
            heading=chunk.heading,
            text=chunk.text,
            retired=False,
        )
        for chunk in chunks
    ]
    session.add_all(rows)
    session.flush()
    row.status, row.progress, row.error = "ready", 1.0, None
    row.pages, row.chunks, row.updated_at = pages, len(rows), now()
    session.flush()
    return Replaced(document_dict(row), retired, [r.rowid for r in rows])


def chunk_id(document_id: str, sha256: str, index: int) -> str:
    """Stable for the same content: re-indexing an unchanged file keeps citations valid."""
    return hashlib.sha256(f"{document_id}:{sha256}:{index}".encode()).hexdigest()[:32]


def retire_chunks(session: Session, document_id: str) -> list[int]:
    """Take a document's chunks out of search (rows stay for old citations)."""
    rowids = list(
        session.scalars(
            select(ChunkRow.rowid).where(
                ChunkRow.document_id == document_id, ChunkRow.retired.is_(False)
            )
        )
    )
    if rowids:
        session.execute(update(ChunkRow).where(ChunkRow.rowid.in_(rowids)).values(retired=True))
    return rowids


def remove_document(session: Session, owner: str, document_id: str) -> list[int] | None:
    """Remove from the owner's library; return the retired chunk rowids (None: not there)."""
    row = _present(session, (owner,), document_id)
    if row is None:
        return None
    row.removed_at = now()
    rowids = retire_chunks(session, document_id)
    session.flush()
    return rowids


def get_document(session: Session, user_id: str, document_id: str) -> Document | None:
    """A document the user reads: their own or the course's."""
    row = _present(session, readable_by(user_id), document_id)
    return None if row is None else document_dict(row)


def list_documents(session: Session, user_id: str) -> list[Document]:
    """The user's documents and the course library's, by path."""
    rows = session.scalars(
        select(DocumentRow)
        .where(DocumentRow.user_id.in_(readable_by(user_id)), DocumentRow.removed_at.is_(None))
        .order_by(DocumentRow.path, DocumentRow.user_id)
    )
    return [document_dict(row) for row in rows]


def pending_documents(
    session: Session, owners: Collection[str] | None = None
) -> list[tuple[str, str, str, str]]:
    """(owner, id, path, sha256) of documents a stopped server left queued or indexing: of
    `owners`, or of everyone (None)."""
    query = select(DocumentRow.user_id, DocumentRow.id, DocumentRow.path, DocumentRow.sha256).where(
        DocumentRow.status.in_(("queued", "indexing")), DocumentRow.removed_at.is_(None)
    )
    if owners is not None:
        query = query.where(DocumentRow.user_id.in_(owners))
    return [(u, d, p, h) for u, d, p, h in session.execute(query)]


def has_ready(session: Session, user_id: str) -> bool:
    """Whether the user reads at least one indexed document (asked before every answer)."""
    found = session.scalar(
        select(DocumentRow.id)
        .where(
            DocumentRow.user_id.in_(readable_by(user_id)),
            DocumentRow.status == "ready",
            DocumentRow.removed_at.is_(None),
        )
        .limit(1)
    )
    return found is not None


def get_passage(session: Session, user_id: str, document_id: str, chunk: str) -> Passage | None:
    """A chunk for a citation preview, saying whether its source still holds it."""
    row = session.scalar(
        select(ChunkRow).where(
            ChunkRow.id == chunk,
            ChunkRow.document_id == document_id,
            ChunkRow.user_id.in_(readable_by(user_id)),
        )
    )
    if row is None:
        return None
    document = session.get(DocumentRow, document_id)
    assert document is not None  # chunks reference their document
    source: Literal["current", "changed", "removed"] = "current"
    if document.removed_at is not None:
        source = "removed"
    elif row.retired:
        source = "changed"
    return {
        "document_id": document_id,
        "chunk_id": row.id,
        "filename": document.filename,
        "path": document.path,
        "page_start": row.page_start,
        "page_end": row.page_end,
        "anchor": row.anchor,
        "heading": row.heading,
        "section": section_title(row.heading),
        "text": row.text,
        "source": source,
        "library": library_of(row.user_id),
    }
