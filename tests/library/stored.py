"""Store and index passages the way the ingestion service does, for retriever tests."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from studymate_jupyter.passages import Chunk
from studymate_jupyter.store import library as library_rows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from studymate_jupyter.library.retrieval import Retriever
    from studymate_jupyter.store.db import Database

USER = "ada"


def chunks_of(paragraphs: list[str]) -> list[Chunk]:
    """One chunk per paragraph, paragraph n on page n."""
    chunks, offset = [], 0
    for index, paragraph in enumerate(paragraphs):
        chunks.append(
            Chunk(index, index + 1, index + 1, offset, offset + len(paragraph), paragraph, None, "")
        )
        offset += len(paragraph) + 2
    return chunks


def add(
    db: Database, retriever: Retriever, path: str, paragraphs: list[str], user: str = USER
) -> str:
    """Register, store and index a document; return its id."""
    sha = hashlib.sha256("\n\n".join(paragraphs).encode()).hexdigest()
    document = db.write_sync(lambda s: library_rows.upsert_document(s, user, path, "text", 1, sha))
    chunks = chunks_of(paragraphs)
    prepared = retriever.prepare(chunks)  # outside the write, as the service does

    def store(session: Session) -> None:
        replaced = library_rows.replace_chunks(
            session, document.document["id"], sha, len(chunks), chunks
        )
        assert replaced is not None
        retriever.unindex(session, replaced.retired)
        retriever.index(session, replaced.added, chunks, prepared)

    db.write_sync(store)
    return document.document["id"]
