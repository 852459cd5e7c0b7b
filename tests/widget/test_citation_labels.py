"""What the widget's citation chips and passage preview say: a Markdown section or notebook
cell by its section title, a PDF by its pages."""

from __future__ import annotations

from studymate_jupyter.protocol import Citation, Passage
from studymate_jupyter.widget.citations import (
    chip_label,
    comm_message,
    file_url,
    preview_link,
    preview_title,
)

FACTORS: Citation = {
    "document_id": "d1",
    "chunk_id": "c2",
    "filename": "notes.md",
    "path": "algebra/notes.md",
    "page_start": 1,
    "page_end": 3,
    "score": 0.8,
    "anchor": "factors",
    "section": "Factors",
}
R_INTRO: Citation = {
    "document_id": "d2",
    "chunk_id": "c9",
    "filename": "R-intro.pdf",
    "path": "R-intro.pdf",
    "page_start": 34,
    "page_end": 34,
    "score": 0.7,
    "anchor": None,
    "section": "Statistical models in R",
}


def passage_of(citation: Citation) -> Passage:
    return {
        "document_id": citation["document_id"],
        "chunk_id": citation["chunk_id"],
        "filename": citation["filename"],
        "path": citation["path"],
        "page_start": citation["page_start"],
        "page_end": citation["page_end"],
        "anchor": citation.get("anchor"),
        "heading": "Algebra / Factors",
        "section": citation.get("section"),
        "text": "A factor divides a number without remainder.",
        "source": "current",
    }


def test_a_markdown_chip_is_named_by_its_section() -> None:
    assert chip_label(2, FACTORS) == "[2] notes.md § Factors"


def test_a_pdf_chip_keeps_its_page() -> None:
    assert chip_label(1, R_INTRO) == "[1] R-intro.pdf p.34"


def test_the_preview_of_a_section_does_not_repeat_its_title() -> None:
    assert preview_title(2, FACTORS, passage_of(FACTORS)) == "<b>[2] notes.md § Factors</b>"


def test_the_preview_of_a_pdf_passage_shows_its_section_as_heading() -> None:
    title = preview_title(1, R_INTRO, passage_of(R_INTRO))
    assert title == "<b>[1] R-intro.pdf p.34</b> — Statistical models in R"


def test_a_section_citation_still_opens_the_file_at_its_anchor() -> None:
    passage = passage_of(FACTORS)
    assert file_url("/user/ann/", passage) == "/user/ann/files/algebra/notes.md#factors"
    link = preview_link("/user/ann/", passage)
    assert 'href="/user/ann/files/algebra/notes.md#factors"' in link
    assert "Open notes.md at § Factors" in link
    assert comm_message(FACTORS) == {
        "action": "open_citation",
        "path": "algebra/notes.md",
        "page": 1,
        "anchor": "factors",
    }


def test_without_a_server_the_preview_says_where_the_section_is() -> None:
    assert preview_link(None, passage_of(FACTORS)) == "<small>algebra/notes.md, § Factors</small>"
