"""The store's schema as Alembic revisions: a new database on either backend, a database file
from StudyMate before Alembic (made by that release and kept in tests/data) upgrading in place
with its history, and every older version of the frozen steps reaching the same schema."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL

from studymate_jupyter.postgres_cluster import PostgresCluster
from studymate_jupyter.store import schema
from studymate_jupyter.store.db import Database, UnusableDatabase
from studymate_jupyter.store.migrations import STEPS

# Made by StudyMate at commit 60cf2e0 (schema version 7, before Alembic) through a real server:
# one chat with two questions and their replies, a reaction, feedback, read state, and one
# indexed Markdown document (notes.md, two chunks) that the second reply cites.
RELEASED = Path(__file__).parent / "data" / "studymate-v7.db"
NEWER = int(schema.HEAD) + 1


def schema_of(path: Path) -> dict[str, str]:
    """Every table, index and trigger of a SQLite file and the DDL that made it."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE ?",
            (f"{schema.VERSION_TABLE}%",),
        ).fetchall()
    conn.close()
    return {name: " ".join(sql.split()) for name, sql in rows}


def rows_of(path: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    conn.close()
    return rows


def test_a_new_sqlite_database_gets_exactly_the_schema_the_release_before_alembic_made(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new.db'}")
    db.close()
    assert db.revision == schema.HEAD
    assert schema_of(tmp_path / "new.db") == schema_of(RELEASED)
    assert rows_of(tmp_path / "new.db", schema.VERSION_TABLE) == [(schema.HEAD,)]
    assert rows_of(tmp_path / "new.db", "studymate_schema") == [(v,) for v in range(1, 8)]


def test_a_database_file_from_the_release_before_alembic_upgrades_with_its_history(
    tmp_path: Path,
) -> None:
    path = tmp_path / "studymate.db"
    shutil.copy(RELEASED, path)
    tables = ["chats", "messages", "reactions", "feedback", "documents", "chunks"]
    before = {table: rows_of(path, table) for table in tables}
    db = Database(f"sqlite:///{path}")
    try:
        assert db.schema_version == int(schema.HEAD)
        # Its full-text indexes still answer: they were kept, not rebuilt empty.
        found = db.read_sync(
            lambda s: s.execute(
                text("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'mitochondria'")
            ).scalar()
        )
        assert found == 1
        found = db.read_sync(
            lambda s: s.execute(
                text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'plants'")
            ).scalar()
        )
        assert found == 2  # the first question and the reply that quotes notes.md
    finally:
        db.close()
    assert {table: rows_of(path, table) for table in tables} == before
    assert len(before["messages"]) == 4
    assert len(before["chunks"]) == 2
    assert rows_of(path, "studymate_schema") == [(v,) for v in range(1, 8)]
    assert rows_of(path, schema.VERSION_TABLE) == [(schema.HEAD,)]


@pytest.mark.parametrize("version", range(0, len(STEPS) + 1))
def test_a_database_at_any_version_before_alembic_reaches_the_schema_a_new_one_gets(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE studymate_schema (version INTEGER NOT NULL)")
        for number, statements in enumerate(STEPS[:version], start=1):
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO studymate_schema (version) VALUES (?)", (number,))
        if version >= 1:
            conn.execute(
                "INSERT INTO chats (id, user_id, title, created_at, updated_at) "
                "VALUES ('c', 'me', 'Kept', 't', 't')"
            )
    conn.close()
    Database(f"sqlite:///{path}").close()
    assert schema_of(path) == schema_of(RELEASED)
    assert rows_of(path, "studymate_schema") == [(v,) for v in range(1, 8)]
    if version >= 1:
        assert [row[:3] for row in rows_of(path, "chats")] == [("c", "me", "Kept")]


def test_a_new_postgresql_database_gets_the_same_tables_in_its_own_types(
    postgres_url: URL,
) -> None:
    db = Database(postgres_url.render_as_string(hide_password=False))
    db.close()
    assert db.revision == schema.HEAD
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            tables = set(found.get_table_names())
            columns = {
                (table, column["name"]): column
                for table in tables
                for column in found.get_columns(table)
            }
            stamped = conn.execute(text(f"SELECT version_num FROM {schema.VERSION_TABLE}")).all()
    finally:
        engine.dispose()
    # Every table and column of the release is there (later revisions may add more); its
    # FTS5 tables and their shadow tables are SQLite's only.
    with sqlite3.connect(RELEASED) as conn:
        released = {
            table: {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            for (table,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'studymate_schema'"
            )
        }
    conn.close()
    assert set(released) <= tables
    assert not any("fts" in table for table in tables)
    for table, names in released.items():
        assert names <= {name for (t, name) in columns if t == table}, table
    assert str(columns[("messages", "seq")]["type"]) == "BIGINT"
    assert columns[("messages", "seq")]["identity"] is not None
    assert columns[("chunks", "rowid")]["identity"] is not None
    assert str(columns[("chunks", "retired")]["type"]) == "BOOLEAN"
    assert str(columns[("chunk_embeddings", "vector")]["type"]) == "BYTEA"
    assert [tuple(row) for row in stamped] == [(schema.HEAD,)]


def test_servers_starting_together_on_one_new_postgresql_database_all_start(
    postgres_url: URL,
) -> None:
    url = postgres_url.render_as_string(hide_password=False)
    opened: list[Database] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(Database(url))
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for db in opened:
        db.close()
    assert failures == []
    assert [db.revision for db in opened] == [schema.HEAD] * 4


def test_a_postgresql_database_at_a_newer_revision_is_refused_without_its_password(
    postgres_cluster: PostgresCluster, postgres_url: URL
) -> None:
    url = postgres_url.render_as_string(hide_password=False)
    Database(url).close()
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {schema.VERSION_TABLE} SET version_num = :v"), {"v": str(NEWER)})
    engine.dispose()
    with pytest.raises(UnusableDatabase) as refused:
        Database(url)
    assert str(refused.value) == (
        f"postgresql+psycopg://studymate:***@127.0.0.1:{postgres_cluster.port}/"
        f"{postgres_url.database} was written by a newer StudyMate (schema version {NEWER}; this "
        f"one knows up to {schema.HEAD}): upgrade StudyMate or give another db_url"
    )
    assert postgres_cluster.password not in str(refused.value)
