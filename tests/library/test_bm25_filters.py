"""The default ranking ranks in the index first, then filters: filtering must never lose a
passage that belongs to the asking user and the chat's scope (real SQLite, real FTS5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from stored import USER, add

from studymate_jupyter.library.retrieval import Bm25Retriever
from studymate_jupyter.passages import Scope
from studymate_jupyter.store.db import Database

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Far more passages than the index-only ranking looks at, each better than the one we want.
CROWD = [f"Entropy entropy entropy, part {n}: entropy measures disorder." for n in range(400)]
WANTED = "A short remark on entropy in the appendix about heat engines."


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/studymate.db")
    yield database
    database.close()


def test_another_users_better_passages_never_hide_ones_own(db: Database) -> None:
    retriever = Bm25Retriever()
    add(db, retriever, "crowd.txt", CROWD, user="mallory")
    add(db, retriever, "notes.txt", [WANTED])
    hits = db.read_sync(lambda s: retriever.search(s, USER, "entropy", 5, None))
    assert [hit.text for hit in hits] == [WANTED]


def test_a_scope_finds_its_passage_below_many_better_ones_outside_it(db: Database) -> None:
    retriever = Bm25Retriever()
    add(db, retriever, "thermo/crowd.txt", CROWD)
    wanted = add(db, retriever, "engines/notes.txt", [WANTED])
    for scope in (Scope(folder="engines"), Scope(document_ids=(wanted,))):
        hits = db.read_sync(lambda s, scope=scope: retriever.search(s, USER, "entropy", 5, scope))
        assert [hit.text for hit in hits] == [WANTED]


def test_without_filters_the_best_passages_come_first(db: Database) -> None:
    retriever = Bm25Retriever()
    add(db, retriever, "thermo/crowd.txt", CROWD)
    add(db, retriever, "engines/notes.txt", [WANTED])
    hits = db.read_sync(lambda s: retriever.search(s, USER, "entropy", 5, None))
    assert len(hits) == 5
    assert WANTED not in [hit.text for hit in hits]
