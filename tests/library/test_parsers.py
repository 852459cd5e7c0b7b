"""Parsing files into numbered units, and chunking them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import nbformat
import pdfs
import pytest

from studymate_jupyter.library.chunking import chunk_document
from studymate_jupyter.library.errors import IngestError
from studymate_jupyter.library.parsers import parse_file
from studymate_jupyter.library.parsers.markdown import slugify
from studymate_jupyter.passages import ParsedDocument, ParsedUnit, section_title

if TYPE_CHECKING:
    from pathlib import Path

LIMIT = 10 * 2**20


def words(count: int, word: str = "lorem") -> str:
    return " ".join(f"{word}{i}" for i in range(count))


def test_pdf_pages_are_numbered_from_one(tmp_path: Path) -> None:
    path = pdfs.write(
        tmp_path / "notes.pdf",
        pdfs.text_pdf([["Photosynthesis basics"], ["Cellular respiration"], ["Mitosis phases"]]),
    )
    document = parse_file(path, max_bytes=LIMIT)
    assert document.kind == "pdf"
    assert document.pages == 3
    assert [(unit.page, unit.text) for unit in document.units] == [
        (1, "Photosynthesis basics"),
        (2, "Cellular respiration"),
        (3, "Mitosis phases"),
    ]


def test_pdf_pages_without_text_are_skipped_but_keep_the_numbering(tmp_path: Path) -> None:
    data = pdfs.build_pdf([pdfs._content_stream(["first"]), None, pdfs._content_stream(["third"])])
    document = parse_file(pdfs.write(tmp_path / "gap.pdf", data), max_bytes=LIMIT)
    assert document.pages == 3
    assert [unit.page for unit in document.units] == [1, 3]


def test_pdf_bookmarks_become_page_headings(tmp_path: Path) -> None:
    data = pdfs.text_pdf(
        [["intro text"], ["more text"], ["vectors text"]],
        outline=[("Introduction", 0), ("Vectors", 2)],
    )
    document = parse_file(pdfs.write(tmp_path / "book.pdf", data), max_bytes=LIMIT)
    assert [unit.heading for unit in document.units] == ["Introduction", "Introduction", "Vectors"]


def test_encrypted_pdf_fails_as_encrypted(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "locked.pdf", pdfs.encrypted_pdf())
    with pytest.raises(IngestError, match=r"^encrypted PDF$"):
        parse_file(path, max_bytes=LIMIT)


def test_corrupt_pdf_fails_as_corrupt(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "broken.pdf", pdfs.corrupt_pdf())
    with pytest.raises(IngestError, match=r"^corrupt or unreadable PDF$"):
        parse_file(path, max_bytes=LIMIT)


def test_truncated_pdf_fails_as_corrupt(tmp_path: Path) -> None:
    data = pdfs.text_pdf([["a page"]])
    path = pdfs.write(tmp_path / "cut.pdf", data[: len(data) // 3])
    with pytest.raises(IngestError, match=r"^corrupt or unreadable PDF$"):
        parse_file(path, max_bytes=LIMIT)


def test_image_only_pdf_has_no_extractable_text(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "scan.pdf", pdfs.image_only_pdf())
    with pytest.raises(IngestError, match=r"^no extractable text$"):
        parse_file(path, max_bytes=LIMIT)


def test_garbled_text_layer_counts_as_no_text(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "garbled.pdf", pdfs.garbled_pdf())
    with pytest.raises(IngestError, match=r"^no extractable text$"):
        parse_file(path, max_bytes=LIMIT)


def test_file_over_the_size_limit_fails_with_both_sizes(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 600_000)  # 3 MB
    with pytest.raises(IngestError, match=r"^file too large \(2\.9 MB > 1\.0 MB limit\)$"):
        parse_file(path, max_bytes=2**20)


@pytest.mark.parametrize("name", ["photo.md", "data.txt", "notebook.ipynb"])
def test_binary_content_with_a_text_extension_fails_as_binary(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(IngestError, match=r"^binary file$"):
        parse_file(path, max_bytes=LIMIT)


def test_random_bytes_without_nul_fail_as_binary(tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes((i * 7919 + 13) % 255 + 1 for i in range(20_000)))
    with pytest.raises(IngestError, match=r"^binary file$"):
        parse_file(path, max_bytes=LIMIT)


def test_latin1_text_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("Caf\xe9 cr\xe8me br\xfbl\xe9e recipe".encode("latin-1"))
    assert parse_file(path, max_bytes=LIMIT).units[0].text == "Café crème brûlée recipe"


def test_unsupported_extension_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "slides.pptx"
    path.write_bytes(b"PK")
    with pytest.raises(IngestError, match=r"^unsupported file type \.pptx$"):
        parse_file(path, max_bytes=LIMIT)


def test_markdown_has_a_section_per_heading_with_github_slugs(tmp_path: Path) -> None:
    path = tmp_path / "course.md"
    path.write_text(
        "Welcome to the course.\n\n"
        "# Linear Algebra\nMatrices and vectors.\n\n"
        "## Eigen-values & vectors!\nSee `eig`.\n\n"
        "```python\n# not a heading\nprint(1)\n```\n\n"
        "## Examples\nOne.\n\n"
        "Examples\n--------\nTwo.\n\n"
        "## Examples\nThree.\n"
    )
    document = parse_file(path, max_bytes=LIMIT)
    assert document.kind == "markdown"
    assert [(unit.page, unit.anchor) for unit in document.units] == [
        (1, None),
        (2, "linear-algebra"),
        (3, "eigen-values--vectors"),
        (4, "examples"),
        (5, "examples-1"),
        (6, "examples-2"),
    ]
    assert "# not a heading" in document.units[2].text
    assert document.units[2].heading == "Linear Algebra / Eigen-values & vectors!"


def test_slugs_follow_github_rules() -> None:
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("[Install](#install) `pip` Guide") == "install-pip-guide"
    assert slugify("Über  Größe") == "über--größe"


def test_plain_text_is_cut_into_numbered_spans(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("\n\n".join(words(100, f"p{n}x") for n in range(7)))
    document = parse_file(path, max_bytes=LIMIT)
    assert document.kind == "text"
    assert [unit.page for unit in document.units] == [1, 2, 3]
    assert all(len(unit.text.split()) <= 300 for unit in document.units)
    assert document.units[0].text.startswith("p0x0 ")


def notebook_json(cells: list[dict[str, object]]) -> str:
    return json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}, indent=1
    )


def test_notebook_cells_are_pages_with_their_ids_as_anchors(tmp_path: Path) -> None:
    path = tmp_path / "lab.ipynb"
    path.write_text(
        notebook_json(
            [
                {"id": "intro", "cell_type": "markdown", "metadata": {}, "source": "# Lab 1"},
                {"id": "empty", "cell_type": "code", "metadata": {}, "source": "",
                 "outputs": [], "execution_count": None},
                {"id": "calc", "cell_type": "code", "metadata": {}, "source": "print(6 * 7)",
                 "execution_count": 1, "outputs": [
                     {"output_type": "stream", "name": "stdout", "text": "42\n"},
                     {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                      "data": {"text/plain": "x" * 5000}},
                 ]},
            ]
        )
    )  # fmt: skip
    document = parse_file(path, max_bytes=LIMIT)
    assert document.kind == "notebook"
    assert document.pages == 3
    assert [(unit.page, unit.anchor) for unit in document.units] == [(1, "intro"), (3, "calc")]
    assert document.units[1].text == "print(6 * 7)\n\n42"  # the 5,000-char output is left out
    assert document.units[1].heading == "Lab 1"


def test_notebook_without_cell_ids_has_no_anchors(tmp_path: Path) -> None:
    path = tmp_path / "old.ipynb"
    cell = {"cell_type": "markdown", "metadata": {}, "source": ["Old ", "notebook"]}
    notebook = {"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [cell]}
    path.write_text(json.dumps(notebook))
    document = parse_file(path, max_bytes=LIMIT)
    assert [(unit.page, unit.anchor, unit.text) for unit in document.units] == [
        (1, None, "Old notebook")
    ]


def test_broken_notebook_fails_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text('{"cells": [')
    with pytest.raises(IngestError, match=r"^corrupt or unreadable notebook$"):
        parse_file(path, max_bytes=LIMIT)


def test_chunk_offsets_point_at_the_chunk_text(tmp_path: Path) -> None:
    pages = [[words(90, f"pg{n}w")] for n in range(6)]
    document = parse_file(pdfs.write(tmp_path / "long.pdf", pdfs.text_pdf(pages)), max_bytes=LIMIT)
    chunks = chunk_document(document, chunk_words=40, overlap_words=10)
    assert chunks
    for chunk in chunks:
        assert document.text[chunk.char_start : chunk.char_end] == chunk.text
        assert 1 <= chunk.page_start <= chunk.page_end <= 6
        assert len(chunk.text.split()) <= 40
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))


def test_chunks_stay_on_their_page_and_cover_every_word(tmp_path: Path) -> None:
    pages = [[words(250, f"pg{n}w")] for n in range(3)]
    document = parse_file(pdfs.write(tmp_path / "p.pdf", pdfs.text_pdf(pages)), max_bytes=LIMIT)
    chunks = chunk_document(document, chunk_words=120, overlap_words=40)
    assert all(chunk.page_start == chunk.page_end for chunk in chunks)
    covered = {word for chunk in chunks for word in chunk.text.split()}
    assert covered == set(document.text.split())


def test_short_sections_stay_passages_of_their_own_named_by_their_section(
    tmp_path: Path,
) -> None:
    # A citation names its passage's section: a passage spanning two would misname one.
    path = tmp_path / "short.md"
    path.write_text("# One\nalpha\n\n# Two\nbeta\n\n# Three\n" + words(200) + "\n")
    chunks = chunk_document(parse_file(path, max_bytes=LIMIT), min_words=30, max_units=3)
    starts = [(c.page_start, c.page_end, c.anchor, c.heading) for c in chunks[:2]]
    assert starts == [(1, 1, "one", "One"), (2, 2, "two", "Two")]
    assert {(c.anchor, c.heading) for c in chunks[2:]} == {("three", "Three")}


def test_short_pages_and_cells_of_one_section_still_share_a_passage(tmp_path: Path) -> None:
    path = tmp_path / "cells.ipynb"
    cells = [
        nbformat.v4.new_markdown_cell("# Loops"),
        nbformat.v4.new_code_cell("for i in range(3):\n    print(i)"),
        nbformat.v4.new_code_cell("total = sum(range(3))"),
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    chunks = chunk_document(parse_file(path, max_bytes=LIMIT), min_words=30, max_units=3)
    assert [(c.page_start, c.page_end, c.heading) for c in chunks] == [(1, 3, "Loops")]


# Clean passages: running heads, navigation pages, heading paths and code lines (issue 12).


def manual(tmp_path: Path) -> dict[int, str]:
    """The generated R manual's units as {PDF page: text}."""
    path = pdfs.write(tmp_path / "manual.pdf", pdfs.manual_pdf())
    return {unit.page: unit.text for unit in parse_file(path, max_bytes=LIMIT).units}


def test_running_heads_footers_and_page_numbers_leave_pdf_pages(tmp_path: Path) -> None:
    pages = manual(tmp_path)
    lines = [line for text in pages.values() for line in text.split("\n")]
    heads = {
        pdfs.MANUAL_EVEN_HEAD.format(n=2),
        pdfs.MANUAL_EVEN_HEAD.format(n=6),
        "Chapter 1: Getting started 3",  # a chapter's head, on one page only
        "Chapter 2: Vectors 5",
        pdfs.MANUAL_FOOTER,
    }
    assert heads.isdisjoint(lines)
    assert not [line for line in lines if line.strip().isdigit()]
    # The rest of each page stays, headings included.
    assert pages[3].startswith("1 Getting started\nStart a session by typing R")
    assert pages[6].startswith("2 Vectors\nThe simplest structure")
    assert pages[8].endswith("applied to a factor.")
    assert pages[1] == "A Short Manual of R\nNotes for the first course in statistics\nVersion 1.0"


def test_a_line_that_recurs_in_the_body_stays(tmp_path: Path) -> None:
    pages = manual(tmp_path)
    assert [page for page, text in pages.items() if pdfs.MANUAL_REPEATED_LINE in text] == [4, 6]


def test_contents_and_index_pages_are_no_units_but_name_the_pages_keywords(
    tmp_path: Path,
) -> None:
    path = pdfs.write(tmp_path / "manual.pdf", pdfs.manual_pdf())
    document = parse_file(path, max_bytes=LIMIT)
    assert document.pages == 9
    assert [unit.page for unit in document.units] == [1, 3, 4, 5, 6, 7, 8]
    keywords = {unit.page: unit.keywords.split(" ; ") for unit in document.units}
    assert "recycling rule" in keywords[7]  # from the index: "recycling rule, 5"
    assert "2.2 Vector arithmetic" in keywords[7]  # from the contents page
    assert "workspace image" in keywords[4]
    assert not any(". . ." in unit.text for unit in document.units)


def test_a_two_page_pdf_keeps_its_heads(tmp_path: Path) -> None:
    pages = [["Lab sheet 1", "Measure the pendulum."], ["Lab sheet 2", "Plot the periods."]]
    path = pdfs.write(tmp_path / "lab.pdf", pdfs.text_pdf(pages))
    assert [unit.text for unit in parse_file(path, max_bytes=LIMIT).units] == [
        "Lab sheet 1\nMeasure the pendulum.",
        "Lab sheet 2\nPlot the periods.",
    ]


SENTENCES = [
    "Thanks go to the students who tested these notes.",
    "The course assumes no programming experience.",
    "Exercises follow every chapter of the notes.",
    "Solutions are handed out in the tutorials.",
    "Vectors hold numbers of one kind.",
    "Lists hold objects of any kind.",
]


def test_roman_page_numbers_of_front_matter_leave_the_pages(tmp_path: Path) -> None:
    front = [
        [text, roman] for text, roman in zip(SENTENCES[:4], ["i", "ii", "iii", "iv"], strict=True)
    ]
    body = [[text, "x"] for text in SENTENCES[4:]]  # "x" here is no page number
    path = pdfs.write(tmp_path / "book.pdf", pdfs.text_pdf([*front, *body]))
    texts = [unit.text for unit in parse_file(path, max_bytes=LIMIT).units]
    assert texts == [*SENTENCES[:4], *(f"{text}\nx" for text in SENTENCES[4:])]


def test_r_code_and_console_output_keep_their_lines_in_a_pdf_chunk(tmp_path: Path) -> None:
    path = pdfs.write(tmp_path / "manual.pdf", pdfs.manual_pdf())
    chunks = chunk_document(parse_file(path, max_bytes=LIMIT))
    code = "\n".join(pdfs.MANUAL_CODE)
    assert [chunk.page_start for chunk in chunks if code in chunk.text] == [7]


def test_a_table_of_version_numbers_is_a_page_of_text_not_an_index(tmp_path: Path) -> None:
    rows = [f"oldname{n} newname{n} 3.{n}.0" for n in range(12)]
    pages = [["Obsolete functions", *rows], ["More text here"], ["And a last page"]]
    path = pdfs.write(tmp_path / "obsolete.pdf", pdfs.text_pdf(pages))
    assert parse_file(path, max_bytes=LIMIT).units[0].text.split("\n")[1] == rows[0]


def test_an_index_of_operators_is_an_index_page(tmp_path: Path) -> None:
    operators = ["!", "!=", "%*%", "&&", "<-", "==", "||", "~", "^"]
    index = [
        "Function index",
        "A",
        *[f"{op} . . . . . . . . . . {n + 1}" for n, op in enumerate(operators)],
    ]
    pages = [[text] for text in SENTENCES[:3]]
    path = pdfs.write(tmp_path / "ops.pdf", pdfs.text_pdf([*pages, index]))
    assert [unit.page for unit in parse_file(path, max_bytes=LIMIT).units] == [1, 2, 3]


def test_a_markdown_heading_path_names_each_title_once(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text(
        "# Study notes\nIntro.\n\n## Study notes\nAgain.\n\n### Vectors\nc(1, 2).\n\n"
        "## Factors\nfactor(x).\n"
    )
    units = parse_file(path, max_bytes=LIMIT).units
    assert [unit.heading for unit in units] == [
        "Study notes",
        "Study notes",
        "Study notes / Vectors",
        "Study notes / Factors",
    ]
    assert [section_title(unit.heading) for unit in units][2:] == ["Vectors", "Factors"]
    assert [unit.anchor for unit in units][2:] == ["vectors", "factors"]


def test_r_code_in_markdown_keeps_its_lines_in_the_chunk(tmp_path: Path) -> None:
    code = "```r\n> x <- c(1, 2, 3)\n> mean(x)\n[1] 2\n```"
    path = tmp_path / "r.md"
    path.write_text(f"# Means\nThe mean of a vector, {words(40)}:\n\n{code}\n")
    (chunk,) = chunk_document(parse_file(path, max_bytes=LIMIT))
    assert code in chunk.text
    assert (chunk.heading, chunk.anchor) == ("Means", "means")


def test_notebook_cells_sit_under_the_path_of_the_headings_above_them(tmp_path: Path) -> None:
    path = tmp_path / "lab.ipynb"
    path.write_text(
        notebook_json(
            [
                {"id": "t", "cell_type": "markdown", "metadata": {}, "source": "# Lab 2"},
                {"id": "v", "cell_type": "markdown", "metadata": {},
                 "source": "## Vectors\n```r\n# a comment, not a heading\nx <- 1\n```"},
                {"id": "c", "cell_type": "code", "metadata": {}, "execution_count": 1,
                 "source": "x <- c(1, 2, 3)\nx * 2",
                 "outputs": [{"output_type": "stream", "name": "stdout", "text": "[1] 2 4 6\n"}]},
                {"id": "f", "cell_type": "markdown", "metadata": {}, "source": "## Factors"},
            ]
        )
    )  # fmt: skip
    units = parse_file(path, max_bytes=LIMIT).units
    assert [unit.heading for unit in units] == [
        "Lab 2",
        "Lab 2 / Vectors",
        "Lab 2 / Vectors",
        "Lab 2 / Factors",
    ]
    assert units[2].text == "x <- c(1, 2, 3)\nx * 2\n\n[1] 2 4 6"


def test_a_chunk_never_spans_a_page_left_out_of_the_units() -> None:
    # Page 2 was a contents page (no unit): the short title page is not joined to page 3.
    units = (
        ParsedUnit(1, "An Introduction to R"),
        ParsedUnit(3, "Vectors " * 40),
        ParsedUnit(4, "Short tail"),
    )
    chunks = chunk_document(ParsedDocument("pdf", 4, units))
    assert [(c.page_start, c.page_end) for c in chunks] == [(1, 1), (3, 4)]
