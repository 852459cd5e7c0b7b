"""The store's repositories on each backend (studymate_db_url is parametrized over SQLite and
PostgreSQL): the library's rows, message ids unique per user by constraint even from two
servers at once, and history ordered by the database's own sequence."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studymate_jupyter.passages import Chunk
from studymate_jupyter.store import chats, library, reactions
from studymate_jupyter.store.db import Database
from studymate_jupyter.store.models import MessageRow
from studymate_jupyter.store.prepared import Prepared


@pytest.fixture
def db(studymate_db_url: str) -> Iterator[Database]:
    opened = Database(studymate_db_url)
    try:
        yield opened
    finally:
        opened.close()


def passage(index: int, text: str) -> Chunk:
    return Chunk(index, index + 1, index + 1, 0, len(text), text, None, f"Section {index}")


async def test_a_document_keeps_its_passages_through_a_change_and_its_removal(
    db: Database,
) -> None:
    added = await db.write(lambda s: library.upsert_document(s, "ada", "a.md", "markdown", 9, "h1"))
    assert added.change == "new"
    doc = added.document["id"]
    first = await db.write(
        lambda s: library.replace_chunks(
            s, doc, "h1", 2, [passage(0, "Eigenvalues"), passage(1, "Eigenvectors")]
        )
    )
    assert first is not None
    assert first.retired == []
    assert first.added == sorted(first.added)
    assert first.document["status"] == "ready"
    assert first.document["chunks"] == 2
    old_chunk = library.chunk_id(doc, "h1", 1)
    again = await db.write(lambda s: library.upsert_document(s, "ada", "a.md", "markdown", 9, "h1"))
    assert again.change == "unchanged"
    changed = await db.write(
        lambda s: library.upsert_document(s, "ada", "a.md", "markdown", 12, "h2")
    )
    assert changed.change == "changed"
    second = await db.write(
        lambda s: library.replace_chunks(s, doc, "h2", 1, [passage(0, "Only eigenvalues")])
    )
    assert second is not None
    assert second.retired == first.added
    assert min(second.added) > max(first.added)  # the database's sequence, never reused
    quoted = await db.read(lambda s: library.get_passage(s, "ada", doc, old_chunk))
    assert quoted is not None
    assert (quoted["text"], quoted["source"], quoted["page_start"]) == (
        "Eigenvectors",
        "changed",
        2,
    )
    assert await db.read(lambda s: library.get_passage(s, "bob", doc, old_chunk)) is None
    assert await db.read(lambda s: library.has_ready(s, "ada"))
    removed = await db.write(lambda s: library.remove_document(s, "ada", doc))
    assert removed == second.added
    assert await db.read(lambda s: library.list_documents(s, "ada")) == []
    quoted = await db.read(lambda s: library.get_passage(s, "ada", doc, old_chunk))
    assert quoted is not None
    assert quoted["source"] == "removed"


async def test_a_chat_keeps_its_order_reactions_feedback_and_read_state(db: Database) -> None:
    stored = await db.write(lambda s: chats.add_user_message(s, "ada", None, "q1", "What is 2+2?"))
    assert stored is not None
    chat = stored.chat["id"]
    reply = await db.write(lambda s: chats.start_reply(s, "ada", chat, "q1", 40))
    assert reply is not None
    for n in range(2, 6):
        await db.write(lambda s, n=n: chats.add_user_message(s, "ada", chat, f"q{n}", f"And {n}?"))
    await db.write(
        lambda s: reactions.set_reaction(s, "ada", chat, reply.message["id"], "👍", True)
    )
    await db.write(
        lambda s: reactions.set_feedback(s, "ada", chat, reply.message["id"], "up", "clear")
    )
    page = await db.read(lambda s: chats.load_messages(s, "ada", chat, None, 3))
    assert page is not None
    assert [m["id"] for m in page.messages] == ["q3", "q4", "q5"]
    assert page.has_more
    older = await db.read(lambda s: chats.load_messages(s, "ada", chat, "q3", 50))
    assert older is not None
    assert [m["id"] for m in older.messages] == ["q1", reply.message["id"], "q2"]
    assert older.messages[1]["reactions"] == {"👍": ["ada"]}
    assert older.messages[1]["feedback"] == {"rating": "up", "note": "clear"}
    read = await db.write(lambda s: chats.mark_read(s, "ada", chat, "q5"))
    assert read is not None
    assert (read["unread"], read["read_up_to"], read["message_count"]) == (0, "q5", 6)
    assert await db.write(lambda s: chats.delete_chat(s, "ada", chat))
    assert await db.read(lambda s: chats.list_chats(s, "ada")) == []


async def test_a_message_id_is_stored_once_per_user_even_from_two_servers_at_once(
    studymate_db_url: str,
) -> None:
    servers = [Database(studymate_db_url), Database(studymate_db_url)]
    try:
        chat = (await servers[0].write(lambda s: chats.create_chat(s, "ada", "Twice")))["id"]
        # The second server checks for the id while the first has inserted it and not yet
        # committed: on PostgreSQL its insert meets the constraint, on SQLite it waits for the
        # file's lock. Either way its sender is answered with the one stored message.
        second: list[chats.StoredUserMessage | None] = []

        def first_then_second(session: Session) -> chats.StoredUserMessage | None:
            stored = chats.add_user_message(session, "ada", chat, "same", "Hello")
            racer.start()
            time.sleep(0.5)  # the racer is now waiting on the first's uncommitted row
            return stored

        racer = threading.Thread(
            target=lambda: second.append(
                servers[1].write_sync(
                    lambda s: chats.add_user_message(s, "ada", chat, "same", "Hello again")
                )
            )
        )
        first = servers[0].write_sync(first_then_second)
        racer.join(10)
        assert first is not None
        assert first.is_new
        assert len(second) == 1
        assert second[0] is not None
        assert not second[0].is_new
        assert second[0].message == first.message
        # The same id is another user's own: ids are scoped to their user.
        theirs = await servers[1].write(
            lambda s: chats.add_user_message(s, "bob", None, "same", "Hi")
        )
        assert theirs is not None
        assert theirs.is_new
        with pytest.raises(IntegrityError):
            servers[0].write_sync(
                lambda s: s.execute(
                    insert(MessageRow).values(
                        id="same",
                        user_id="ada",
                        chat_id=chat,
                        role="user",
                        content="again",
                        status="complete",
                        created_at="t",
                    )
                )
            )
        page = await servers[1].read(lambda s: chats.load_messages(s, "ada", chat, None, 50))
        assert page is not None
        assert [m["id"] for m in page.messages] == ["same"]
    finally:
        for server in servers:
            server.close()


async def test_a_prepared_statement_answers_and_refuses_as_sqlalchemy_does(db: Database) -> None:
    chat = (await db.write(lambda s: chats.create_chat(s, "ada", "Prepared")))["id"]
    row = {
        "id": "m1",
        "user_id": "ada",
        "chat_id": chat,
        "role": "user",
        "content": "hi",
        "status": "complete",
        "citations": "[]",
        "created_at": "2026-12-04T00:00:00.000Z",
        "reply_to": None,
    }
    add = Prepared(insert(MessageRow).values({name: bindparam(name) for name in row}))
    # A literal LIMIT is a parameter of the compiled statement: it keeps its value.
    first_two = Prepared(
        select(MessageRow.id)
        .where(MessageRow.chat_id == bindparam("chat"))
        .order_by(MessageRow.seq)
        .limit(2)
    )
    edit = Prepared(
        update(MessageRow)
        .where(MessageRow.chat_id == bindparam("chat"))
        .values(content=bindparam("content"))
    )

    def add_three(session: Session) -> list[tuple[object, ...]]:
        for message_id in ("m1", "m2", "m3"):
            add.run(session, {**row, "id": message_id})
        return first_two.run(session, {"chat": chat}).rows

    assert await db.write(add_three) == [("m1",), ("m2",)]
    assert db.write_sync(lambda s: edit.run(s, {"chat": chat, "content": "edited"})).rowcount == 3
    # The constraint's refusal comes as SQLAlchemy's own error, with the driver's inside it.
    with pytest.raises(IntegrityError) as refused:
        await db.write(lambda s: add.run(s, row))
    assert refused.value.orig is not None
    stored = db.read_sync(lambda s: s.scalars(select(MessageRow.content)).all())
    assert stored == ["edited"] * 3
