"""The schema steps StudyMate ran before Alembic, frozen: never edit them, never add one.

Alembic's revision 7 (store/schema/versions/schema_7.py) runs them on SQLite, from the version
a database's `studymate_schema` ledger is at up to 7, so a new file gets exactly the DDL it
always got and a file from an older release upgrades in place. Later changes are Alembic
revisions. Each step is plain DDL, not `metadata.create_all()`, so step 1 always builds the
schema as it was at version 1 and a later step can alter it without destroying a user's history.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

STEPS: list[list[str]] = [
    # 1: chats and messages
    [
        """CREATE TABLE chats (
            id VARCHAR(128) PRIMARY KEY,
            user_id VARCHAR(255) NOT NULL,
            title TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            message_count INTEGER NOT NULL DEFAULT 0,
            scope TEXT
        )""",
        "CREATE INDEX ix_chats_user_updated ON chats (user_id, updated_at)",
        """CREATE TABLE messages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id VARCHAR(128) NOT NULL,
            user_id VARCHAR(255) NOT NULL,
            chat_id VARCHAR(128) NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
            role VARCHAR(16) NOT NULL,
            content TEXT NOT NULL,
            status VARCHAR(16) NOT NULL,
            citations TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            CONSTRAINT uq_messages_user_id UNIQUE (user_id, id)
        )""",
        "CREATE INDEX ix_messages_chat_seq ON messages (chat_id, seq)",
    ],
    # 2: the study library. Rows are retired, not deleted, so a citation can still show the
    # passage it quoted after its file changed or left the library.
    [
        """CREATE TABLE documents (
            id VARCHAR(64) PRIMARY KEY,
            user_id VARCHAR(255) NOT NULL,
            path TEXT NOT NULL,
            filename TEXT NOT NULL,
            kind VARCHAR(16) NOT NULL,
            status VARCHAR(16) NOT NULL,
            error TEXT,
            progress REAL NOT NULL DEFAULT 0,
            pages INTEGER NOT NULL DEFAULT 0,
            chunks INTEGER NOT NULL DEFAULT 0,
            size INTEGER NOT NULL DEFAULT 0,
            sha256 TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            removed_at TEXT
        )""",
        "CREATE INDEX ix_documents_user_path ON documents (user_id, path)",
        """CREATE TABLE chunks (
            rowid INTEGER PRIMARY KEY AUTOINCREMENT,
            id VARCHAR(64) NOT NULL UNIQUE,
            document_id VARCHAR(64) NOT NULL REFERENCES documents (id),
            user_id VARCHAR(255) NOT NULL,
            sha256 TEXT NOT NULL,
            seq INTEGER NOT NULL,
            page_start INTEGER NOT NULL,
            page_end INTEGER NOT NULL,
            char_start INTEGER NOT NULL,
            char_end INTEGER NOT NULL,
            anchor TEXT,
            heading TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            retired INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX ix_chunks_document ON chunks (document_id, retired)",
        # Search text only; rowid = chunks.rowid. Retired chunks are removed from it.
        """CREATE VIRTUAL TABLE chunks_fts USING fts5(
            heading, body, tokenize='porter unicode61 remove_diacritics 2'
        )""",
    ],
    # 3: dense vectors for the optional hybrid retriever of the time (torch, one model): rowid =
    # chunks.rowid, vector = float32 little-endian bytes, L2-normalized. Empty (and unused)
    # with the default bm25 retriever.
    [
        """CREATE TABLE chunk_vectors (
            rowid INTEGER PRIMARY KEY,
            vector BLOB NOT NULL
        )""",
    ],
    # 4: an assistant message names the question it answers, so a question left unanswered
    # (a server stopped with replies still queued) can be found and answered at the next start.
    [
        "ALTER TABLE messages ADD COLUMN reply_to VARCHAR(128)",
        """UPDATE messages SET reply_to = (
            SELECT q.id FROM messages q
            WHERE q.chat_id = messages.chat_id AND q.role = 'user' AND q.seq < messages.seq
            ORDER BY q.seq DESC LIMIT 1
        ) WHERE role = 'assistant'""",
        "CREATE INDEX ix_messages_reply_to ON messages (chat_id, reply_to)",
    ],
    # 5: chunks_fts gains a `keywords` column (terms from a book's own index, library/
    # bookindex.py). FTS5 tables cannot be altered: rebuild from the chunks still searchable.
    # Their keywords are not stored in `chunks`, so they come back when a file is re-indexed.
    [
        "DROP TABLE chunks_fts",
        """CREATE VIRTUAL TABLE chunks_fts USING fts5(
            heading, body, keywords, tokenize='porter unicode61 remove_diacritics 2'
        )""",
        """INSERT INTO chunks_fts (rowid, heading, body)
            SELECT c.rowid, c.heading, c.text FROM chunks c
            JOIN documents d ON d.id = c.document_id
            WHERE c.retired = 0 AND d.removed_at IS NULL""",
    ],
    # 6: vectors are computed in the background, after a document is searchable by its words,
    # by more than one model: one row per (chunk, model), and each document's vector step.
    # The old single-model table held torch-made vectors of other chunk sizes: dropped, and
    # every indexed document's vectors are pending again (the next start computes them).
    [
        "DROP TABLE chunk_vectors",
        """CREATE TABLE chunk_embeddings (
            rowid INTEGER NOT NULL,
            model VARCHAR(64) NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (rowid, model)
        )""",
        "ALTER TABLE documents ADD COLUMN vectors VARCHAR(16) NOT NULL DEFAULT 'pending'",
        "ALTER TABLE documents ADD COLUMN vectors_progress REAL NOT NULL DEFAULT 0",
    ],
    # 7: around the conversation. Read state per chat (a chat has one owner): replies
    # finished after the newest message read, kept as a count so listing chats counts no rows;
    # history from before this version counts as read. Reactions and feedback per message and
    # user. Full-text search over messages, kept by triggers, filled from what is stored.
    [
        "ALTER TABLE chats ADD COLUMN unread INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE chats ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE chats ADD COLUMN read_up_to VARCHAR(128)",
        """UPDATE chats SET
            read_seq = COALESCE((SELECT MAX(m.seq) FROM messages m WHERE m.chat_id = chats.id), 0),
            read_up_to = (
                SELECT m.id FROM messages m WHERE m.chat_id = chats.id ORDER BY m.seq DESC LIMIT 1
            )""",
        """CREATE TABLE reactions (
            message_seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
            user_id VARCHAR(255) NOT NULL,
            emoji VARCHAR(16) NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (message_seq, user_id, emoji)
        )""",
        """CREATE TABLE feedback (
            message_seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
            user_id VARCHAR(255) NOT NULL,
            rating VARCHAR(8) NOT NULL,
            note TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (message_seq, user_id)
        )""",
        """CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, content='messages', content_rowid='seq',
            tokenize='porter unicode61 remove_diacritics 2'
        )""",
        """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
        END""",
        """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, content)
                VALUES ('delete', old.seq, old.content);
        END""",
        """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, content)
                VALUES ('delete', old.seq, old.content);
            INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
        END""",
        "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
    ],
]


def migrate(conn: Connection) -> int:
    """Bring a SQLite database to version 7 by these steps; return the version it is now at."""
    conn.execute(text("CREATE TABLE IF NOT EXISTS studymate_schema (version INTEGER NOT NULL)"))
    current = conn.execute(text("SELECT max(version) FROM studymate_schema")).scalar() or 0
    for version, statements in enumerate(STEPS, start=1):
        if version <= current:
            continue
        for statement in statements:
            conn.execute(text(statement))
        conn.execute(text("INSERT INTO studymate_schema (version) VALUES (:v)"), {"v": version})
    return len(STEPS)
