from __future__ import annotations

from studymate_jupyter.client import format_citation, format_citations
from studymate_jupyter.client.formatting import new_suffix
from studymate_jupyter.protocol import Citation


def cite(
    filename: str, start: int, end: int, anchor: str | None = None, section: str | None = None
) -> Citation:
    return {
        "document_id": "d",
        "chunk_id": "k",
        "filename": filename,
        "page_start": start,
        "page_end": end,
        "score": 0.5,
        "anchor": anchor,
        "section": section,
    }


def test_a_citation_of_a_page_range_reads_file_and_pages_with_an_en_dash() -> None:
    assert format_citation(1, cite("notes.pdf", 3, 5)) == "[1] notes.pdf p.3\u20135"


def test_a_citation_of_one_page_names_just_that_page() -> None:
    assert format_citation(2, cite("ch1.md", 4, 4)) == "[2] ch1.md p.4"


def test_citations_are_numbered_from_one_in_the_given_order() -> None:
    lines = format_citations([cite("a.pdf", 1, 2), cite("b.ipynb", 7, 7)])
    assert lines == ["[1] a.pdf p.1\u20132", "[2] b.ipynb p.7"]


def test_a_markdown_section_is_named_by_its_title_not_its_numbers() -> None:
    factors = cite("notes.md", 1, 3, anchor="factors", section="Factors")
    assert format_citation(2, factors) == "[2] notes.md \u00a7 Factors"


def test_a_notebook_cell_under_a_heading_is_named_by_that_heading() -> None:
    cell = cite("lab.ipynb", 7, 7, anchor="3f2a-cell", section="Fitting a model")
    assert format_citations([cell]) == ["[1] lab.ipynb \u00a7 Fitting a model"]


def test_a_pdf_keeps_its_pages_even_when_it_knows_its_section() -> None:
    # A PDF's outline may name the chapter, but a PDF citation has no anchor to open it at.
    chapter = cite("R-intro.pdf", 34, 34, section="Statistical models in R")
    assert format_citation(1, chapter) == "[1] R-intro.pdf p.34"


def test_an_anchor_without_a_section_title_keeps_the_numbers() -> None:
    untitled = cite("lab.ipynb", 2, 2, anchor="first-cell", section=None)
    assert format_citation(1, untitled) == "[1] lab.ipynb p.2"


def test_only_the_new_end_of_a_growing_reply_is_printed() -> None:
    assert new_suffix("The ans", "The answer") == "wer"
    assert new_suffix("The answer", "A rewritten answer") is None
