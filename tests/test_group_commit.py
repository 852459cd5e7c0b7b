"""The writer's group commit: writes made while it is busy are committed together, and each
caller still gets its own outcome, as if its write had run alone. On SQLite the writer keeps
one connection, replaced when it breaks and closed with the database."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studymate_jupyter.store import chats as chat_rows
from studymate_jupyter.store.db import Database
from studymate_jupyter.store.models import ChatRow


@pytest.fixture
def db(tmp_path: Any) -> Any:
    database = Database(f"sqlite:///{tmp_path / 'studymate.db'}")
    yield database
    database.close()


async def while_the_writer_is_busy(db: Database, jobs: list[Any]) -> list[Any]:
    """Submit `jobs` while a first write holds the writer, so they queue up as one batch;
    the outcome of each (its result or its exception)."""
    release = threading.Event()
    holding = asyncio.ensure_future(db.write(lambda s: release.wait(10)))
    await asyncio.sleep(0.05)  # the holder is on the writer thread now
    waiting = [asyncio.ensure_future(db.write(job)) for job in jobs]
    await asyncio.sleep(0.05)
    release.set()
    await holding
    return list(await asyncio.gather(*waiting, return_exceptions=True))


def titles(db: Database) -> list[str]:
    return sorted(chat["title"] for chat in db.read_sync(lambda s: chat_rows.list_chats(s, "u")))


def new_chat(title: str) -> Any:
    return lambda s: chat_rows.create_chat(s, "u", title)["id"]


def half_written_then_failing(session: Session) -> None:
    chat_rows.create_chat(session, "u", "half written")
    raise ValueError("the job changed its mind")


async def test_writes_queued_behind_a_busy_writer_are_all_stored_with_their_own_results(db):
    outcomes = await while_the_writer_is_busy(db, [new_chat(f"chat {n}") for n in range(20)])
    assert len(set(outcomes)) == 20
    assert titles(db) == sorted(f"chat {n}" for n in range(20))


async def test_a_failing_write_in_a_batch_fails_alone_and_leaves_nothing_behind(db):
    existing = await db.write(new_chat("first"))

    def duplicate(session: Session) -> None:
        session.execute(
            insert(ChatRow).values(
                id=existing, user_id="u", title="dup", created_at="", updated_at=""
            )
        )

    outcomes = await while_the_writer_is_busy(
        db, [new_chat("before"), half_written_then_failing, duplicate, new_chat("after")]
    )
    assert isinstance(outcomes[1], ValueError)
    assert isinstance(outcomes[2], IntegrityError)
    assert isinstance(outcomes[0], str)
    assert isinstance(outcomes[3], str)
    assert titles(db) == ["after", "before", "first"]


async def test_a_write_in_a_batch_sees_what_the_writes_before_it_stored(db):
    chat_id = await db.write(new_chat("counted"))
    outcomes = await while_the_writer_is_busy(
        db,
        [
            lambda s, n=n: chat_rows.add_user_message(s, "u", chat_id, f"m{n}", "hello")
            for n in range(5)
        ],
    )
    assert [stored.chat["message_count"] for stored in outcomes] == [1, 2, 3, 4, 5]


async def test_a_write_after_the_writers_connection_broke_works_on_a_new_one(db):
    def break_the_connection(session: Session) -> None:
        session.connection().connection.driver_connection.close()  # type: ignore[union-attr]

    with pytest.raises(Exception, match="closed database"):
        await db.write(break_the_connection)
    await db.write(new_chat("after"))
    assert titles(db) == ["after"]


async def test_closing_the_database_closes_every_connection_to_its_file(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'studymate.db'}")
    await db.write(new_chat("stored"))
    db.read_sync(lambda s: chat_rows.list_chats(s, "u"))
    assert (tmp_path / "studymate.db-wal").exists()
    db.close()
    # SQLite removes the WAL file when the last connection to the database closes.
    assert not (tmp_path / "studymate.db-wal").exists()
