from __future__ import annotations

from studymate_jupyter.client import format_citation, format_citations
from studymate_jupyter.client.formatting import new_suffix
from studymate_jupyter.protocol import Citation


def cite(filename: str, start: int, end: int) -> Citation:
    return {
        "document_id": "d",
        "chunk_id": "k",
        "filename": filename,
        "page_start": start,
        "page_end": end,
        "score": 0.5,
    }


def test_a_citation_of_a_page_range_reads_file_and_pages_with_an_en_dash() -> None:
    assert format_citation(1, cite("notes.pdf", 3, 5)) == "[1] notes.pdf p.3\u20135"


def test_a_citation_of_one_page_names_just_that_page() -> None:
    assert format_citation(2, cite("ch1.md", 4, 4)) == "[2] ch1.md p.4"


def test_citations_are_numbered_from_one_in_the_given_order() -> None:
    lines = format_citations([cite("a.pdf", 1, 2), cite("b.ipynb", 7, 7)])
    assert lines == ["[1] a.pdf p.1\u20132", "[2] b.ipynb p.7"]


def test_only_the_new_end_of_a_growing_reply_is_printed() -> None:
    assert new_suffix("The ans", "The answer") == "wer"
    assert new_suffix("The answer", "A rewritten answer") is None
