"""PostgreSQL's full-text search: what FTS5's chunks_fts and messages_fts are on SQLite.

- chunk_search: one row per searchable chunk (keyed by chunks.rowid), its heading, passage
  and book-index keywords, their token count, and a tsvector of the three labelled heading A,
  keywords B, body D (library/pg_search.py weighs the labels as fts.BM25_WEIGHTS weighs FTS5's
  columns in its bm25), with a GIN index. Filled and emptied where chunks_fts is (the
  retriever's index and unindex).
- messages.search: a generated tsvector of the content, so every insert or edit keeps it.

On SQLite nothing changes: revision 7 made the FTS5 tables and triggers.
"""

from __future__ import annotations

from alembic import op

revision = "8"
down_revision = "7"
branch_labels = None
depends_on = None

# A tsvector holds at most 1 MB and an insert over that raises: a message may be 1 MiB of
# text, so only its first 256 Ki characters are indexed (about 40,000 words, well under it).
MESSAGE_INDEXED_CHARS = 262144

POSTGRESQL = [
    """CREATE TABLE chunk_search (
        rowid BIGINT PRIMARY KEY REFERENCES chunks (rowid) ON DELETE CASCADE,
        heading TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        keywords TEXT NOT NULL DEFAULT '',
        -- Tokens in the three, as FTS5 counts them: bm25's length normalization.
        words INTEGER NOT NULL,
        terms TSVECTOR GENERATED ALWAYS AS (
            setweight(to_tsvector('english', heading), 'A')
            || setweight(to_tsvector('english', keywords), 'B')
            || setweight(to_tsvector('english', body), 'D')
        ) STORED
    )""",
    "CREATE INDEX ix_chunk_search_terms ON chunk_search USING GIN (terms)",
    f"""ALTER TABLE messages ADD COLUMN search TSVECTOR GENERATED ALWAYS AS (
        to_tsvector('english', left(content, {MESSAGE_INDEXED_CHARS}))
    ) STORED""",
    "CREATE INDEX ix_messages_search ON messages USING GIN (search)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in POSTGRESQL:
        op.execute(statement)
