"""Clean passages through a real server: no running heads, page numbers or navigation pages
in what is cited, sections named by their heading, code that keeps its lines (issue 12)."""

from __future__ import annotations

import urllib.parse

import pytest
from library.pdfs import (
    MANUAL_CODE,
    MANUAL_EVEN_HEAD,
    MANUAL_FOOTER,
    MANUAL_REPEATED_LINE,
    manual_pdf,
)
from library_calls import add

from studymate_jupyter.library.parsers.markdown import slugify

CONTENTS_PAGE, INDEX_PAGE = 2, 9  # PDF pages of the generated manual
RUNNING_LINES = {
    MANUAL_EVEN_HEAD.format(n=2),
    MANUAL_EVEN_HEAD.format(n=6),
    "Chapter 1: Getting started 3",
    "Chapter 2: Vectors 5",
    "Index 7",
    MANUAL_FOOTER,
}
# Questions a student would ask, and the words of the heads, contents and index themselves.
QUESTIONS = [
    "how do I leave the program",
    "which function lists the objects in the workspace",
    "how do I read the help page of a function",
    "what does the function c do",
    "what happens when two vectors differ in length",
    "what is a factor",
    "A Short Manual of R",
    "Chapter Getting started Vectors",
    "Draft course notes please do not circulate",
    "Contents Index",
    "recycling rule element-wise arithmetic workspace image categorical data levels",
]

STUDY_NOTES = """# Study notes

These notes follow the course.

## Vectors

In R, the function c combines values into a vector. Arithmetic on vectors works element by
element, so adding two vectors of the same length adds their entries pairwise, and a single
number is simply a vector of length one:

```r
> x <- c(1, 2, 3)
> x + 1
[1] 2 3 4
```

## Factors

A factor holds categorical data.

## Lists

A list holds objects of any kind.

## Data frames

A data frame is a list of columns of the same length, which is how R stores a table of
observations: each row is one case and each column one variable, and columns may be of
different types, such as numbers for ages and factors for the state each student is from.
"""


async def search(api, question: str, k: int = 10) -> list[dict]:
    return (await api(f"search?q={urllib.parse.quote(question)}&k={k}"))["results"]


async def passage_of(api, result: dict) -> dict:
    return await api(f"documents/{result['document_id']}/chunks/{result['chunk_id']}")


@pytest.fixture
def manual(jp_root_dir):
    (jp_root_dir / "manual.pdf").write_bytes(manual_pdf())
    return "manual.pdf"


async def test_cited_passages_of_a_manual_have_no_running_heads_or_page_numbers(api, manual):
    assert (await add(api, manual))["status"] == "ready"
    cited = 0
    for question in QUESTIONS:
        for result in await search(api, question):
            lines = (await passage_of(api, result))["text"].split("\n")
            assert RUNNING_LINES.isdisjoint(lines), (question, lines)
            assert not [line for line in lines if line.strip().isdigit()], (question, lines)
            assert not [line for line in RUNNING_LINES if line in result["snippet"]]
            cited += 1
    assert cited >= len(QUESTIONS)


async def test_contents_and_index_pages_are_never_cited(api, manual):
    await add(api, manual)
    for question in QUESTIONS:
        for result in await search(api, question):
            # A short title page shares a passage with the next page of text (pp.1–3): the
            # range spans the contents page, but neither starts nor ends on it.
            ends = {result["page_start"], result["page_end"]}
            assert not ends & {CONTENTS_PAGE, INDEX_PAGE}, (question, result)
            assert ". . ." not in (await passage_of(api, result))["text"]


async def test_a_question_in_the_index_words_finds_the_page_the_index_names(api, manual):
    await add(api, manual)
    # "recycling rule, 5" is only in the index; printed page 5 is PDF page 7.
    best = (await search(api, "what is the recycling rule"))[0]
    assert (best["page_start"], best["page_end"]) == (7, 7)
    assert "recycling" not in (await passage_of(api, best))["text"]


async def test_a_line_that_recurs_in_the_text_is_still_quoted(api, manual):
    await add(api, manual)
    results = await search(api, "remember to save your workspace before you quit")
    pages = {result["page_start"] for result in results[:2]}
    assert pages == {4, 6}
    for result in results[:2]:
        assert MANUAL_REPEATED_LINE in (await passage_of(api, result))["text"]


async def test_r_console_output_keeps_its_lines_in_a_pdf_passage(api, manual):
    await add(api, manual)
    best = (await search(api, "arithmetic on vectors element by element"))[0]
    assert best["page_start"] == 7
    assert "\n".join(MANUAL_CODE) in (await passage_of(api, best))["text"]


async def test_a_markdown_citation_names_the_section_its_anchor_points_at(api, jp_root_dir):
    (jp_root_dir / "notes.md").write_text(STUDY_NOTES)
    await add(api, "notes.md")
    best = (await search(api, "what is a data frame"))[0]
    # Each section is a passage of its own, however short, so its citation names it.
    assert (best["anchor"], best["section"]) == ("data-frames", "Data frames")
    passage = await passage_of(api, best)
    assert (passage["heading"], passage["section"]) == ("Study notes / Data frames", "Data frames")
    assert "A data frame is a list of columns" in passage["text"]

    for question in ["function c combines values", "categorical data", "objects of any kind"]:
        for result in await search(api, question):
            passage = await passage_of(api, result)
            titles = passage["heading"].split(" / ")
            assert len(titles) == len(set(titles)), passage["heading"]
            assert result["section"] == passage["section"] == titles[-1]
            assert result["anchor"] == slugify(result["section"])


async def test_r_code_in_markdown_keeps_its_lines_in_the_passage(api, jp_root_dir):
    (jp_root_dir / "notes.md").write_text(STUDY_NOTES)
    await add(api, "notes.md")
    best = (await search(api, "function c combines values into a vector"))[0]
    assert best["anchor"] == "vectors"
    text = (await passage_of(api, best))["text"]
    assert "> x <- c(1, 2, 3)\n> x + 1\n[1] 2 3 4" in text
