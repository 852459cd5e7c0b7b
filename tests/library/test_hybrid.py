"""The hybrid ranking's parts: the numpy MiniLM against torch, BM25 in memory against the
formula, and page-level fusion."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from studymate_jupyter.library.encoders import (
    MODELS,
    MiniLmEncoder,
    WordLlamaEncoder,
    minilm_folder,
)
from studymate_jupyter.library.fusion import Ranking, fuse_pages
from studymate_jupyter.library.segments import K1, B, Segment, Sparse, Vocabulary, bm25, tokens

REFERENCE = Path(__file__).with_name("minilm_reference.json")


def test_the_default_install_has_no_torch():
    with pytest.raises(ImportError):
        import torch  # noqa: F401


def test_the_package_ships_the_minilm_weights():
    # hatch_build.py puts them there at `pip install` (the wheel and `pip install -e .`).
    assert minilm_folder() == MODELS / "all-MiniLM-L6-v2", (
        "the MiniLM weights are missing: reinstall with `pip install -e .`"
    )


def test_numpy_minilm_gives_the_vectors_torch_gives():
    reference = json.loads(REFERENCE.read_text())
    expected = np.array(reference["vectors"], dtype=np.float32)
    folder = minilm_folder()
    assert folder is not None
    vectors = MiniLmEncoder(folder).encode(reference["texts"])
    assert vectors.shape == expected.shape
    assert np.abs(vectors - expected).max() < 1e-4
    # And so the same rankings: every text's neighbours in the same order.
    ours, theirs = vectors @ vectors.T, expected @ expected.T
    assert (np.argsort(-ours, axis=1) == np.argsort(-theirs, axis=1)).all()


def test_encoders_return_unit_rows_and_a_question_alone_matches_its_batch():
    texts = ["Vectors are built with c().", "A factor stores categories.", "x <- 1:10"]
    folder = minilm_folder()
    assert folder is not None
    for encoder in (MiniLmEncoder(folder), WordLlamaEncoder()):
        batch = encoder.encode(texts)
        assert batch.dtype == np.float32
        assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
        # Padding in a batch must not move a text's vector.
        assert np.abs(encoder.encode(texts[1:2])[0] - batch[1]).max() < 1e-5
        assert encoder.encode([]).shape[0] == 0


def test_tokens_are_plain_lowercase_words_without_stop_words():
    assert tokens("How do I RESET the Plots? set_size 3.5") == [
        "reset",
        "plots",
        "set",
        "size",
        "3",
        "5",
    ]


def _segment(vocabulary: Vocabulary, texts: list[str], pages: list[int]) -> Segment:
    return Segment(
        "doc",
        "doc.md",
        np.arange(1, len(texts) + 1, dtype=np.int64),
        np.array(pages, dtype=np.int64),
        Sparse.build(vocabulary, texts),
    )


def test_bm25_in_memory_scores_what_the_okapi_formula_gives():
    texts = [
        "the derivative measures change",
        "integrals accumulate area under a curve area",
        "the chain rule multiplies derivatives derivative derivative",
        "nothing relevant here",
    ]
    vocabulary = Vocabulary()
    segments = [
        _segment(vocabulary, texts[:2], [1, 2]),
        _segment(vocabulary, texts[2:], [3, 4]),
    ]
    question = ["derivative", "area"]
    found = bm25(segments, vocabulary.known(question), 10)

    docs = [tokens(text) for text in texts]
    average = sum(map(len, docs)) / len(docs)

    def okapi(doc: list[str]) -> float:
        counts = Counter(doc)
        score = 0.0
        for term in question:
            df = sum(term in d for d in docs)
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            tf = counts[term]
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(doc) / average))
        return score

    expected = sorted(
        ((i, okapi(doc)) for i, doc in enumerate(docs) if okapi(doc) > 0), key=lambda p: -p[1]
    )
    flat = [(segment * 2 + position, score) for segment, position, score in found]
    assert [i for i, _ in flat] == [i for i, _ in expected]
    assert np.allclose([s for _, s in flat], [s for _, s in expected], rtol=1e-5)


def test_a_term_no_chunk_has_matches_nothing():
    vocabulary = Vocabulary()
    segments = [_segment(vocabulary, ["alpha beta", "gamma"], [1, 1])]
    assert bm25(segments, vocabulary.known(["zeta"]), 5) == []


def test_pages_are_ranked_by_their_best_chunk_not_by_how_many_chunks_they_have():
    # Page 1 has three middling chunks, page 2 one chunk that both rankings put first.
    pages = {(0, 0): 1, (0, 1): 1, (0, 2): 1, (0, 3): 2}
    bm25_ranking = [(0, 3), (0, 0), (0, 1), (0, 2)]
    dense_ranking = [(0, 3), (0, 1), (0, 0), (0, 2)]
    fused = fuse_pages(
        [Ranking(1.0, bm25_ranking), Ranking(1.0, dense_ranking)], pages.__getitem__, 60
    )
    # Page 1's chunks would sum to more than page 2's one; page-max ranks page 2 first.
    assert [chunk for chunk, _ in fused] == [(0, 3), (0, 0)]
    assert fused[0][1] == pytest.approx(1 / 61)
    assert fused[1][1] == pytest.approx(1 / 62)


def test_the_chunk_shown_for_a_page_is_the_one_the_rankings_rate_best_together():
    pages = {(0, 0): 1, (0, 1): 1, (0, 2): 1}
    fused = fuse_pages(
        [
            Ranking(1.0, [(0, 0), (0, 1), (0, 2)]),
            Ranking(1.0, [(0, 2), (0, 1), (0, 0)]),
            Ranking(1.0, [(0, 1)]),
        ],
        pages.__getitem__,
        60,
    )
    # One page, first in every ranking; of its chunks, (0, 1) is second, second and first.
    assert fused == [((0, 1), pytest.approx(1 / 61))]


def test_a_page_without_vectors_yet_is_not_outvoted_by_pages_that_have_them():
    # Page 2's document has no vectors yet: words put it first, vectors can only vote for 1.
    pages = {(0, 0): 1, (1, 0): 2}
    words = Ranking(1.0, [(1, 0), (0, 0)])
    vectors = Ranking(1.0, [(0, 0)], covers=lambda page: page == 1)
    fused = fuse_pages([words, vectors], pages.__getitem__, 60)
    assert [chunk for chunk, _ in fused] == [(1, 0), (0, 0)]
    assert fused[0][1] == pytest.approx(1 / 61)
    assert fused[1][1] == pytest.approx((1 / 62 + 1 / 61) / 2)


class _Constant:
    """An encoder whose vector for a text is fixed by the text's first word (its topic)."""

    name = "minilm"
    cost = 1.0
    topics = ("alpha", "beta", "gamma", "delta")

    def encode(self, texts):  # type: ignore[no-untyped-def]
        rows = np.zeros((len(texts), 4), dtype=np.float32)
        for row, text in enumerate(texts):
            rows[row, self.topics.index(text.split()[0].lower())] = 1.0
        return rows


def test_vectors_stored_batch_by_batch_join_the_search_as_they_arrive(tmp_path):
    from stored import USER, add

    from studymate_jupyter.library.hybrid import HybridRetriever
    from studymate_jupyter.store import vectors as vector_rows
    from studymate_jupyter.store.db import Database

    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    retriever = HybridRetriever(encoders=[_Constant()], signals=["minilm"], minilm_floor=0.5)
    topics = ["alpha", "beta", "gamma", "delta"]
    document = add(db, retriever, "t.txt", [f"{t} passage {n}" for n, t in enumerate(topics)])

    rows = db.read_sync(lambda s: vector_rows.missing(s, document, "minilm", 99))
    text_of = {rowid: body for rowid, _, body in rows}

    def store(rowids: list[int]) -> None:
        def write(session):  # type: ignore[no-untyped-def]
            vectors = _Constant().encode([text_of[rowid] for rowid in rowids])
            vector_rows.put(session, "minilm", rowids, vectors)
            retriever.vectors_added(session, document)

        db.write_sync(write)

    def pages(question: str) -> list[int]:
        hits = db.read_sync(lambda s: retriever.search(s, USER, question, 4, None))
        return [hit.page_start for hit in hits]

    all_rowids = list(text_of)
    store(all_rowids[:2])
    assert pages("alpha") == [1]
    assert pages("delta") == []  # its vector is not there yet
    store(all_rowids[3:])  # appended at the next search
    assert pages("delta") == [4]
    store(all_rowids[2:3])  # out of rowid order: the whole document is read again
    assert pages("gamma") == [3]
    db.close()
