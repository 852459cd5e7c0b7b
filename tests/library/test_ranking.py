"""Ranking: a book's index as page keywords, navigation pages, coverage rerank (real FTS5)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import pdfs

from studymate_jupyter.library import fts
from studymate_jupyter.library.bookindex import entry, is_navigation, page_offset
from studymate_jupyter.library.chunking import chunk_document
from studymate_jupyter.library.parsers import parse_file
from studymate_jupyter.passages import Chunk, ParsedUnit

if TYPE_CHECKING:
    from pathlib import Path

LIMIT = 10 * 2**20


def manual_pages() -> list[list[str]]:
    """A small manual: contents, four numbered pages (printed n on PDF page n + 1), an index."""
    contents = ["Contents"] + [
        f"{title} . . . . . . . . . . {page}"
        for title, page in [
            ("Introduction", 1),
            ("Long commands", 2),
            ("Random numbers", 3),
            ("Startup file", 4),
            ("Index", 5),
            ("Licence", 5),
            ("Credits", 5),
            ("Colophon", 5),
        ]
    ]
    body = [
        ["1 Tiny Manual", "This manual shows the tool and its conventions."],
        ["2 Tiny Manual", "End each line but the last with a backslash to go on."],
        ["3 Tiny Manual", "The generator gives the same sequence after a call to srand."],
        ["4 Tiny Manual", "A file in the home folder is read when the program starts."],
    ]
    index = [
        "Index",
        "continuation, 2",
        "line continuation . . . . 2",
        "pseudo-random numbers, 3",
        "seed, 3",
        "initialization file, 4",
        "personal settings, 4",
        "conventions, 1",
        "overview, 1-2",
        "chapters, 1-40",
    ]
    return [contents, *body, index]


def test_index_entries_become_keywords_of_the_pages_they_name(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "manual.pdf", pdfs.text_pdf(manual_pages()))
    document = parse_file(path, max_bytes=LIMIT)
    keywords = {unit.page: unit.keywords for unit in document.units}
    # Printed page n is PDF page n + 1: the running headers say so.
    assert "line continuation" in keywords[3]
    assert "continuation" in keywords[3]
    assert "seed" in keywords[4]
    assert "pseudo-random numbers" in keywords[4]
    assert "personal settings" in keywords[5]
    # Contents lines name their page too; a range over many pages is not a topic.
    assert "Random numbers" in keywords[4]
    assert "chapters" not in keywords[2]
    assert "overview" in keywords[2]
    assert "overview" in keywords[3]
    # Navigation pages themselves are no units (never cited), and an entry naming them is
    # dropped.
    assert 1 not in keywords
    assert 6 not in keywords


def test_chunks_carry_their_pages_keywords(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "manual.pdf", pdfs.text_pdf(manual_pages()))
    chunks = chunk_document(parse_file(path, max_bytes=LIMIT), min_words=1)
    by_page = {chunk.page_start: chunk for chunk in chunks if chunk.page_start == chunk.page_end}
    assert "seed" in by_page[4].keywords


def test_a_question_in_the_index_words_finds_the_page_whose_text_lacks_them(
    tmp_path: Path,
) -> None:
    path = pdfs.write(tmp_path / "manual.pdf", pdfs.text_pdf(manual_pages()))
    chunks = chunk_document(parse_file(path, max_bytes=LIMIT), min_words=1, max_units=1)
    conn = sqlite3.connect(":memory:")
    conn.execute(fts.create_table_sql())
    fts.insert_chunks(conn, enumerate(chunks))
    hits = fts.search(conn, "how do I seed the pseudo-random numbers?", k=1)
    assert chunks[hits[0].rowid].page_start == 4


def test_a_book_without_running_page_numbers_gets_no_keywords(tmp_path: Path) -> None:
    pages = manual_pages()
    body = [[line for line in page if "Tiny Manual" not in line] for page in pages[1:5]]
    path = pdfs.write(tmp_path / "manual.pdf", pdfs.text_pdf([pages[0], *body, pages[5]]))
    assert all(unit.keywords == "" for unit in parse_file(path, max_bytes=LIMIT).units)


def test_index_lines_are_recognized_and_prose_is_not() -> None:
    assert entry("starc, 256") == ("starc", [(256, 256)])
    assert entry("tm week, 152–154") == ("tm week", [(152, 154)])
    assert entry("eigs . . . . . . . 686, 687") == ("eigs", [(686, 686), (687, 687)])
    assert entry("1.2.3 Matrix Arithmetic ......... 8") == ("1.2.3 Matrix Arithmetic", [(8, 8)])
    assert entry("12, 13") is None  # no term
    assert entry("x" * 300 + ", 4") is None  # too long for an index line
    prose = "\n".join(["The value is set to 3", *["plain running text of a page"] * 9])
    assert not is_navigation(prose)
    assert is_navigation("\n".join(f"topic {n}, {n + 10}" for n in range(12)))


def test_page_offset_follows_the_running_headers() -> None:
    units = [ParsedUnit(page=n + 16, text=f"{n} GNU Manual\nbody text") for n in range(1, 20)]
    assert page_offset(units) == 16
    assert page_offset([ParsedUnit(page=1, text="no numbers here")]) is None


def _table(passages: list[str]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(fts.create_table_sql())
    chunks = [Chunk(i, 1, 1, 0, len(p), p, None, "") for i, p in enumerate(passages)]
    fts.insert_chunks(conn, enumerate(chunks))
    return conn


def test_a_passage_with_every_question_word_beats_one_repeating_a_rare_word() -> None:
    conn = _table(
        [
            "Histogram histogram histogram: the histogram style draws histogram bars.",
            "To normalise the bins of a histogram, divide each count by the sample size.",
            *[f"unrelated filler passage number {n} about plotting" for n in range(20)],
        ]
    )
    hits = fts.search(conn, "normalise histogram bins by sample size", k=2)
    assert [hit.rowid for hit in hits] == [1, 0]


def test_coverage_counts_each_question_term_once() -> None:
    marked = "the \x01plots\x02 and \x01plotting\x02 of \x01data\x02"
    assert fts.coverage(["plot", "data", "file", "size"], marked) == 0.5
    assert fts.coverage([], marked) == 0.0
    assert fts.coverage(["plot"], "no marks") == 0.0


def test_an_older_database_keeps_its_chunks_searchable_after_the_upgrade(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    from studymate_jupyter.store import schema
    from studymate_jupyter.store.db import Database
    from studymate_jupyter.store.migrations import STEPS

    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    with engine.begin() as conn:  # a database as version 2 left it
        conn.execute(text("CREATE TABLE studymate_schema (version INTEGER NOT NULL)"))
        for statement in STEPS[0] + STEPS[1]:
            conn.execute(text(statement))
        conn.execute(text("INSERT INTO studymate_schema VALUES (2)"))
        conn.execute(
            text(
                "INSERT INTO documents (id, user_id, path, filename, kind, status, created_at, "
                "updated_at) VALUES ('d1', 'ada', 'a.md', 'a.md', 'markdown', 'ready', '', '')"
            )
        )
        for rowid, retired in ((1, 0), (2, 1)):
            conn.execute(
                text(
                    "INSERT INTO chunks (rowid, id, document_id, user_id, sha256, seq, page_start,"
                    " page_end, char_start, char_end, heading, text, retired) VALUES (:r, :id, "
                    "'d1', 'ada', 'h', :r, 1, 1, 0, 9, 'Eigen', 'eigenvalues here', :retired)"
                ),
                {"r": rowid, "id": f"c{rowid}", "retired": retired},
            )
        conn.execute(text("INSERT INTO chunks_fts (rowid, heading, body) VALUES (1, 'E', 'x')"))
    engine.dispose()

    db = Database(url)
    try:
        assert db.schema_version == int(schema.HEAD)
        found = db.read_sync(
            lambda s: s.execute(
                text("SELECT rowid, keywords FROM chunks_fts WHERE chunks_fts MATCH 'eigenvalue'")
            ).all()
        )
        assert [tuple(row) for row in found] == [(1, None)]  # the retired chunk stays out
    finally:
        db.close()
