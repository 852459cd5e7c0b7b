"""User text becomes a safe FTS5 MATCH expression, checked against a real FTS5 table."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import pytest

from studymate_jupyter.library.query import build_match_query, query_terms

if TYPE_CHECKING:
    from collections.abc import Iterator

PASSAGES = {
    1: "The NOT operator negates a logical expression.",
    2: "Use the AND and OR keywords to combine conditions; NEAR finds close words.",
    3: "A column named col holds x values for the scatter plot.",
    4: "Say hi to the class before the lecture on eigenvalues.",
    5: "Plotting a histogram of the data with bins of equal width.",
    6: "To start, select the table of signs: plus, minus, single quotes, a nul byte, an emoji.",
}

# Text that is FTS5 syntax (or SQL), and the passages holding one of its words: what a search
# for it finds when the syntax is read as plain words. Stop words ("not", "and", "a") count
# for nothing, and a star is no prefix search ("eigen*" is not "eigenvalues").
HOSTILE = {
    'say "hi': {4},
    "NOT": set(),
    "col:x": {3},
    "(": set(),
    ")": set(),
    "*": set(),
    "eigen*": set(),
    "AND": set(),
    "a AND b OR NOT c": set(),
    "NEAR(plot histogram)": {2, 3, 5},
    "NEAR": {2},
    "plot NEAR/2 histogram": {2, 3, 5},
    "^start": {6},
    "-minus +plus": {6},
    '""': set(),
    '"': set(),
    "{col} : x": {3},
    "body: x": {3},
    "'single' quotes": {6},
    "\x00 nul byte": {6},
    "emoji 🎓 and ünïcödé": {6},
    "": set(),
    "   ": set(),
    "SELECT * FROM chunks; DROP TABLE chunks; --": {6},
}


@pytest.fixture
def fts() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(col, body, tokenize='porter unicode61')")
    conn.executemany("INSERT INTO docs(rowid, col, body) VALUES (?, '', ?)", list(PASSAGES.items()))
    yield conn
    conn.close()


def search(conn: sqlite3.Connection, text: str) -> list[int]:
    expression = build_match_query(text)
    if expression is None:
        return []
    rows = conn.execute(
        "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs)", (expression,)
    )
    return [rowid for (rowid,) in rows]


@pytest.mark.parametrize(("text", "found"), HOSTILE.items())
def test_search_syntax_in_a_question_finds_the_passages_with_its_words(
    fts: sqlite3.Connection, text: str, found: set[int]
) -> None:
    rowids = search(fts, text)
    assert set(rowids) == found
    assert len(rowids) == len(found)  # each passage once


def test_every_term_is_quoted_and_terms_are_joined_by_or() -> None:
    assert build_match_query('say "hi') == '"say" OR "hi"'


def test_operators_are_searched_as_plain_words(fts: sqlite3.Connection) -> None:
    # "not", "and" and "or" are stop words; "near" is an ordinary word in a quoted string.
    assert search(fts, "NEAR") == [2]
    assert search(fts, "keywords AND conditions") == [2]


def test_a_column_filter_is_searched_as_two_words(fts: sqlite3.Connection) -> None:
    # As syntax, col:x would search only the empty col column and find nothing.
    assert search(fts, "col:x") == [3]


def test_a_star_does_not_become_a_prefix_search(fts: sqlite3.Connection) -> None:
    assert search(fts, "eigen*") == []
    assert search(fts, "eigenvalues*") == [4]


def test_passages_with_more_of_the_terms_rank_first(fts: sqlite3.Connection) -> None:
    assert search(fts, "histogram plot of the data")[0] == 5


def test_an_unbalanced_quote_still_finds_the_words(fts: sqlite3.Connection) -> None:
    assert search(fts, 'say "hi') == [4]


@pytest.mark.parametrize("text", ["", "   ", "the of and", "?!*()", '"""'])
def test_text_without_searchable_words_gives_none(text: str) -> None:
    assert build_match_query(text) is None


def test_terms_are_lowercased_deduplicated_and_stop_words_dropped() -> None:
    assert query_terms("What is the Fourier transform of the fourier series?") == [
        "fourier",
        "transform",
        "series",
    ]


def test_a_long_question_is_bounded() -> None:
    expression = build_match_query(" ".join(f"word{i}" for i in range(500)), max_terms=10)
    assert expression is not None
    assert expression.count(" OR ") == 9
