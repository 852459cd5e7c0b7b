"""An index on chunk_search.words, so PostgreSQL's search reads its statistics off the index.

Every search computes bm25's statistics over the whole index (library/pg_search.py: the
number of searchable chunks and their average length, as FTS5 keeps them): without this, a
sequential scan of chunk_search, passages and tsvectors and all (about 60 ms per question at
100,000 chunks); with it, an index-only scan of the lengths (about 4 ms).

On SQLite nothing changes: FTS5 keeps those totals itself.
"""

from __future__ import annotations

from alembic import op

revision = "9"
down_revision = "8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_chunk_search_words ON chunk_search (words)")
