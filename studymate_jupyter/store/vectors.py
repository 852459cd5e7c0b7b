"""Chunk vectors, one row per (chunk, encoder): float32 little-endian bytes, L2-normalized.

Written by the library's background vector step, read by the hybrid retriever.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from .models import DocumentRow

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from sqlalchemy.orm import Session


def missing(
    session: Session, document_id: str, encoder: str, limit: int
) -> list[tuple[int, str, str]]:
    """(rowid, heading, text) of up to `limit` searchable chunks without the encoder's vector."""
    rows = session.execute(
        text(
            """SELECT c.rowid, c.heading, c.text FROM chunks c
            WHERE c.document_id = :document AND c.retired = FALSE
              AND NOT EXISTS (SELECT 1 FROM chunk_embeddings e
                              WHERE e.rowid = c.rowid AND e.model = :encoder)
            ORDER BY c.rowid LIMIT :limit"""
        ),
        {"document": document_id, "encoder": encoder, "limit": limit},
    ).all()
    return [(int(rowid), heading, body) for rowid, heading, body in rows]


def counts(session: Session, document_id: str, encoder: str) -> tuple[int, int]:
    """(chunks with the encoder's vector, searchable chunks) of a document."""
    done, total = session.execute(
        text(
            """SELECT count(e.rowid), count(*) FROM chunks c
            LEFT JOIN chunk_embeddings e ON e.rowid = c.rowid AND e.model = :encoder
            WHERE c.document_id = :document AND c.retired = FALSE"""
        ),
        {"document": document_id, "encoder": encoder},
    ).one()
    return int(done), int(total)


def put(session: Session, encoder: str, rowids: Sequence[int], vectors: Any) -> None:
    """Store one vector per rowid (a float32 matrix, one row each)."""
    # Both dialects' upsert (SQLite 3.24+ and PostgreSQL): a batch computed again replaces.
    session.execute(
        text(
            "INSERT INTO chunk_embeddings (rowid, model, vector) "
            "VALUES (:rowid, :model, :vector) "
            "ON CONFLICT (rowid, model) DO UPDATE SET vector = excluded.vector"
        ),
        [
            {"rowid": rowid, "model": encoder, "vector": vector.astype("<f4").tobytes()}
            for rowid, vector in zip(rowids, vectors, strict=True)
        ],
    )


def of_document(
    session: Session, document_id: str, encoder: str, *, after: int = 0
) -> list[tuple[int, bytes]]:
    """(rowid, vector bytes) of a document's searchable chunks that have the encoder's vector,
    in rowid order, from rowid `after` on (exclusive)."""
    rows = session.execute(
        text(
            """SELECT e.rowid, e.vector FROM chunk_embeddings e
            JOIN chunks c ON c.rowid = e.rowid
            WHERE c.document_id = :document AND c.retired = FALSE AND e.model = :encoder
              AND e.rowid > :after
            ORDER BY e.rowid"""
        ),
        {"document": document_id, "encoder": encoder, "after": after},
    ).all()
    return [(int(rowid), bytes(vector)) for rowid, vector in rows]


def delete(session: Session, rowids: Sequence[int]) -> None:
    """Forget the vectors of retired chunks."""
    if not rowids:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("DELETE FROM chunk_embeddings WHERE rowid = ANY(CAST(:ids AS BIGINT[]))"),
            {"ids": [int(rowid) for rowid in rowids]},
        )
    else:
        session.execute(
            text("DELETE FROM chunk_embeddings WHERE rowid IN (SELECT value FROM json_each(:ids))"),
            {"ids": json.dumps(list(rowids))},
        )


def pending(session: Session, owners: Collection[str] | None = None) -> list[tuple[str, str]]:
    """(user_id, document_id) of indexed documents whose vector step is unfinished: of
    `owners`, or of everyone (None)."""
    query = select(DocumentRow.user_id, DocumentRow.id).where(
        DocumentRow.vectors == "pending",
        DocumentRow.status == "ready",
        DocumentRow.removed_at.is_(None),
    )
    if owners is not None:
        query = query.where(DocumentRow.user_id.in_(owners))
    return [(user_id, document_id) for user_id, document_id in session.execute(query)]
