"""The offline assistant's answers: a few whole sentences from the best passages, each with
its marker, code shown as code, and only the passages it quotes cited, in marker order."""

from __future__ import annotations

import re

from library_calls import add

from studymate_jupyter.assistant.extractive import LEAD, NOTHING_FOUND, compose
from studymate_jupyter.assistant.sentences import inline_code, sentences_of
from studymate_jupyter.passages import Hit

# Sections short enough to be one passage each (the retriever ranks pages, so a question
# meets a page's best passage only).
R_NOTES = """# R basics

## Vectors

In R, the function `c()` combines values into a vector. Typing the name of a vector at the
console prints its elements:

```r
> x <- c(1, 2, 3)
> x
[1] 1 2 3
```

The number in brackets is the index of the first element shown on that line. Arithmetic
works element by element, so x * 2 doubles every element, and x[2] is the second one.

## Factors

A factor stores categorical data such as colours or treatment groups. Its levels are the
distinct categories, and the function table() counts how many values fall in each level,
which is the first thing to look at in a survey with multiple choice answers.
"""
TITLES = ("R basics", "Vectors", "Factors")

_FENCED = re.compile(r"^ *(`{3,}).*?^ *\1 *$", re.S | re.M)
_CODE_SPAN = re.compile(r"(`+).+?\1")
_MARKER = re.compile(r"\[(\d+)\]")


def hit(text: str, heading: str = "", rank: int = 0, filename: str = "notes.md") -> Hit:
    return Hit(
        rowid=rank,
        chunk_id=f"chunk-{rank}",
        document_id="doc",
        filename=filename,
        path=filename,
        page_start=rank + 1,
        page_end=rank + 1,
        anchor=None,
        heading=heading,
        text=text,
        score=1.0 / (rank + 1),
    )


def without_code(markdown: str) -> str:
    """What a client reads as prose: the text outside fenced blocks and code spans."""
    return _CODE_SPAN.sub(" CODE ", _FENCED.sub(" CODE ", markdown))


def items_of(answer: str) -> list[tuple[str, int]]:
    """Each list item's prose (code removed) and the one marker it ends with."""
    assert answer.startswith(f"{LEAD}\n\n"), answer
    items = re.split(r"^- ", answer[len(LEAD) :], flags=re.M)
    assert not items[0].strip(), answer
    parsed: list[tuple[str, int]] = []
    for item in items[1:]:
        prose = " ".join(without_code(item).split())
        markers = _MARKER.findall(prose)
        assert len(markers) == 1, item
        assert prose.endswith(f"[{markers[0]}]"), item
        parsed.append((prose[: -len(f"[{markers[0]}]")].strip(), int(markers[0])))
    return parsed


def assert_markers_follow_first_use(markers: list[int], citations: list[dict]) -> None:
    first_use = list(dict.fromkeys(markers))
    assert first_use == list(range(1, len(first_use) + 1))
    assert len(citations) == len(first_use)


# ---- sentences of a passage ------------------------------------------------------------------


def test_heading_lines_and_headings_glued_to_a_sentence_are_left_out():
    heading = "Training / The learning rate"
    lines = hit(
        "Training\n\nThe learning rate\n\nThe learning rate sets how far each step moves the "
        "weights. A small rate learns slowly but steadily.",
        heading,
    )
    glued = hit(
        "Training The learning rate The learning rate sets how far each step moves.", heading
    )
    assert [s.text for s in sentences_of(lines)] == [
        "The learning rate sets how far each step moves the weights.",
        "A small rate learns slowly but steadily.",
    ]
    assert [s.text for s in sentences_of(glued)] == [
        "The learning rate sets how far each step moves."
    ]


def test_a_short_line_standing_alone_in_a_pdf_is_a_heading_not_part_of_a_sentence():
    page = hit(
        "Chapter 2. Photosynthesis\nPhotosynthesis converts light energy into chemical energy."
        "\nChlorophyll absorbs mostly red and blue light.",
        filename="notes.pdf",
    )
    assert [s.text for s in sentences_of(page)] == [
        "Photosynthesis converts light energy into chemical energy.",
        "Chlorophyll absorbs mostly red and blue light.",
    ]


def test_page_numbers_dot_leaders_rules_and_fragments_are_junk():
    page = hit(
        "Chapter 7: Reading data from files\n34\nseq . . . . . . . . . . 32\n* * * * *\n"
        "Reading data\nThe function read.table() reads a data frame from a file.\n"
        "It takes the file name first.\nSee also.\n2.5 3.1 4.7 5.0 6.2 7.9.",
        filename="R-intro.pdf",
    )
    assert [s.text for s in sentences_of(page)] == [
        "The function `read.table()` reads a data frame from a file.",
        "It takes the file name first.",
    ]


def test_a_passage_cut_mid_sentence_keeps_only_its_whole_sentences():
    window = hit(
        "of the tangent line at that point. The derivative is a rate of change. It is "
        "written as f prime, and its"
    )
    assert [s.text for s in sentences_of(window)] == ["The derivative is a rate of change."]


def test_abbreviations_and_initials_do_not_end_a_sentence():
    page = hit(
        "Fisher's iris data, e.g. the petal widths, were collected by R. A. Fisher himself. "
        "Many examples use it in R. The data set is built in."
    )
    assert [s.text for s in sentences_of(page)] == [
        "Fisher's iris data, e.g. the petal widths, were collected by R. A. Fisher himself.",
        "Many examples use it in R.",
        "The data set is built in.",
    ]


def test_console_lines_without_a_fence_go_under_the_sentence_that_introduces_them():
    page = hit(
        "To make a vector, combine its values with the function c().\nFor example:\n"
        "> x <- c(1, 2, 3)\n> x\n[1] 1 2 3\nThe first number shown is an index.",
        filename="R-intro.pdf",
    )
    first, second = sentences_of(page)
    assert first.text == "To make a vector, combine its values with the function `c()`."
    assert first.code == ("> x <- c(1, 2, 3)", "> x", "[1] 1 2 3")
    assert (second.text, second.code) == ("The first number shown is an index.", ())


def test_the_rest_of_a_sentence_that_code_interrupts_is_a_fragment():
    page = hit(
        "Vectors can be used in arithmetic expressions. For example, the command\n"
        "> v <- 2*x + y + 1\ngenerates a new vector v of length 11 from x and y.\n"
        "The operators are the usual ones.",
        filename="R-intro.pdf",
    )
    assert [(s.text, s.code) for s in sentences_of(page)] == [
        ("Vectors can be used in arithmetic expressions.", ("> v <- 2*x + y + 1",)),
        ("The operators are the usual ones.", ()),
    ]


def test_code_inside_prose_and_bracketed_numbers_are_put_in_backticks():
    assert inline_code("Here x[2] is 5 and x <- c(1, 2) stores two.") == (
        "Here `x[2]` is 5 and `x <- c(1, 2)` stores two."
    )
    assert inline_code("The [1] before `y[1]` is an index, see df$age.") == (
        "The `[1]` before `y[1]` is an index, see `df$age`."
    )
    assert inline_code("Each function(s) takes a (possibly empty) list.") == (
        "Each function(s) takes a (possibly empty) list."
    )


# ---- choosing and composing ------------------------------------------------------------------


def test_an_answer_is_sentences_each_with_its_marker_and_code_shown_as_code():
    page = hit(
        "Vectors\n\nA vector in R is made with the function c(). Typing the vector's name "
        "prints it:\n\n```r\n> x <- c(1, 2, 3)\n> x\n[1] 1 2 3\n```\n",
        "Vectors",
    )
    text, citations = compose("How do I make and print a vector in R?", [page])
    assert text == (
        f"{LEAD}\n\n"
        "- A vector in R is made with the function `c()`. [1]\n"
        "- Typing the vector's name prints it:\n"
        "  ```r\n  > x <- c(1, 2, 3)\n  > x\n  [1] 1 2 3\n  ```\n"
        "  [1]\n"
    )
    assert [c["chunk_id"] for c in citations] == ["chunk-0"]


def test_near_duplicates_from_overlapping_chunks_are_quoted_once():
    first = hit(
        "The chain rule differentiates a composition of functions. It multiplies the "
        "derivative of the outer function by the derivative of the inner one. Integrals",
        rank=0,
    )
    overlapping = hit(
        "differentiates a composition of functions. It multiplies the derivative of the outer "
        "function by the derivative of the inner one! Integrals accumulate area under a curve.",
        rank=1,
    )
    question = "How does the chain rule multiply derivatives?"
    text, citations = compose(question, [first, overlapping])
    sentences = [prose for prose, _ in items_of(text)]
    assert sentences == [
        "The chain rule differentiates a composition of functions.",
        "It multiplies the derivative of the outer function by the derivative of the inner one.",
    ]
    assert [c["chunk_id"] for c in citations] == ["chunk-0"]


def test_citations_list_only_the_passages_quoted_numbered_by_first_use():
    unrelated = hit("Mitochondria release energy from glucose in every cell.", rank=0)
    weaker = hit("Data frames in R hold tables of data.", rank=1)
    best = hit("A factor is how R stores categorical data such as colours.", rank=2)
    text, citations = compose("How does R store categorical data?", [unrelated, weaker, best])
    assert items_of(text) == [
        ("A factor is how R stores categorical data such as colours.", 1),
        ("Data frames in R hold tables of data.", 2),
    ]
    assert [c["chunk_id"] for c in citations] == ["chunk-2", "chunk-1"]
    assert [c["page_start"] for c in citations] == [3, 2]


def test_sentences_sharing_the_rarer_question_terms_are_chosen():
    sentences = [
        "A matrix has rows and columns of numbers.",
        "The matrix product multiplies rows by columns.",
        "A matrix can be transposed by swapping its rows and columns.",
        "The determinant of a square matrix is zero when the matrix is singular.",
        "Every matrix has a rank, the number of independent rows.",
    ]
    text, _ = compose("When is the determinant of a matrix zero?", [hit(" ".join(sentences))])
    # Every sentence has "matrix": the one with "determinant" and "zero" answers, and one
    # more (the first, in text order) makes the answer's two.
    assert [prose for prose, _ in items_of(text)] == [sentences[0], sentences[3]]


def test_the_best_passage_is_quoted_even_when_a_lower_one_has_a_rarer_question_word():
    # R-intro: "How do I create a vector in R?" is answered on the page about c(), which
    # never says "create"; lower pages do, and match more of the question's words.
    best = hit("To set up a vector named x, use the function c() on the numbers.", rank=0)
    lower = [
        "In R you can create a vector of logical values with logical().",
        "R functions often create a vector of the same length as their input.",
        "The rep() function in R can create a vector by repeating values.",
        "To create a vector of characters, R offers character().",
        "R will create a vector of zeros when numeric() is given a length.",
    ]
    others = [hit(text, rank=rank) for rank, text in enumerate(lower, start=1)]
    answer, citations = compose("How do I create a vector in R?", [best, *others])
    assert citations[0]["page_start"] == 1
    assert "To set up a vector named x" in answer


def test_a_sentence_that_leads_into_its_code_without_a_colon_is_kept_with_it():
    # R-intro p.14 writes "use the R command" and the command on the next line.
    text = (
        "To set up a vector named x, say, consisting of five numbers, use the R command\n"
        "> x <- c(10.4, 5.6, 3.1, 6.4, 21.7)\n"
        "This is an assignment statement using the function c()."
    )
    answer, _ = compose("How do I set up a vector?", [hit(text)])
    assert "use the R command\n  ```" in answer
    assert "> x <- c(10.4, 5.6, 3.1, 6.4, 21.7)" in answer


def test_many_matching_passages_still_give_at_most_five_sentences():
    # Three passages that answer well, and many weaker ones: the padding to two sentences
    # must not add the weaker ones when five are already chosen.
    strong = [
        hit(text, rank=n)
        for n, text in enumerate(
            [
                "A factor stores categorical data as integer codes with levels.",
                "The levels of a factor are the distinct categories of the data.",
                "Calling factor() on a character vector gives categorical data its levels.",
                "An ordered factor keeps its categorical levels in a given order.",
                "Tables count how often each level of categorical data occurs.",
            ]
        )
    ]
    weak = [
        hit(text, rank=5 + n)
        for n, text in enumerate(
            [
                "Data frames hold columns of data.",
                "Lists store objects of any kind.",
                "Arrays store numbers in several dimensions.",
                "Matrices store numbers in rows and columns.",
                "Vectors store values of one mode.",
                "Strings store text data.",
            ]
        )
    ]
    answer, citations = compose("How does R store categorical data in a factor?", strong + weak)
    assert 2 <= len(items_of(answer)) <= 5
    assert len(citations) <= 5


def test_an_answer_has_at_most_five_sentences_and_at_least_two():
    many = hit(
        "A vector holds numbers of one type. A vector of strings holds text values. A logical "
        "vector holds TRUE or FALSE values. A named vector holds values with labels. An empty "
        "vector holds nothing at all. A long vector holds more values than fit on one line. "
        "A vector inside a list holds its own values."
    )
    text, _ = compose("What does a vector hold?", [many])
    assert len(items_of(text)) == 5

    one = hit(
        "Photosynthesis converts light energy into chemical energy. It happens in the "
        "chloroplasts of leaves."
    )
    text, _ = compose("What does photosynthesis do?", [one])
    assert [prose for prose, _ in items_of(text)] == [
        "Photosynthesis converts light energy into chemical energy.",
        "It happens in the chloroplasts of leaves.",
    ]


def test_a_sentence_of_another_section_is_not_added_as_context():
    page = hit(
        "Eigenvalues\n\nEigenvalues are the roots of the characteristic polynomial.\n\n"
        "Determinants\n\nThe determinant of a square matrix is zero when it is singular.",
        "Eigenvalues / Determinants",
    )
    text, _ = compose("What is a determinant?", [page])
    assert items_of(text) == [
        ("The determinant of a square matrix is zero when it is singular.", 1)
    ]


def test_a_question_nothing_in_the_passages_answers_gets_the_plain_reply():
    page = hit("Photosynthesis converts light energy into chemical energy in the leaves.")
    assert compose("Who won the 1998 football world cup?", [page]) == (NOTHING_FOUND, [])
    assert compose("What is photosynthesis?", []) == (NOTHING_FOUND, [])


# ---- through a real server -------------------------------------------------------------------


async def test_an_answer_from_a_note_is_a_few_cited_sentences_with_its_console_output_as_code(
    api, chat_ws, jp_root_dir
):
    (jp_root_dir / "r-notes.md").write_text(R_NOTES)
    assert (await add(api, "r-notes.md"))["status"] == "ready"
    ws = await chat_ws()
    frames = await ws.reply_to("How do I make a vector in R and print it?")
    reply = frames[-1]["data"]["message"]
    assert reply["status"] == "complete"
    content = reply["content"]

    items = items_of(content)
    assert 2 <= len(items) <= 5, content
    markers = [n for _, n in items]
    assert_markers_follow_first_use(markers, reply["citations"])
    assert all(c["filename"] == "r-notes.md" for c in reply["citations"])
    # The console output is inside a fenced block, never bare text a client reads as [1].
    blocks = [m.group(0) for m in _FENCED.finditer(content)]
    assert any("[1] 1 2 3" in block and "> x <- c(1, 2, 3)" in block for block in blocks), content
    assert "1 2 3" not in without_code(content)
    assert set(_MARKER.findall(without_code(content))) == {str(n) for n in markers}
    sentences = [prose for prose, _ in items]
    assert len({" ".join(s.lower().split()) for s in sentences}) == len(sentences)
    for sentence in sentences:
        assert not re.match(rf"(?:{'|'.join(TITLES)})\s+[A-Z]", sentence), sentence
        assert "R basics" not in sentence
    assert "- In R, the function `c()` combines values into a vector. [1]\n" in content


async def test_a_question_on_a_topic_the_note_does_not_have_is_answered_plainly(
    api, chat_ws, jp_root_dir
):
    (jp_root_dir / "r-notes.md").write_text(R_NOTES)
    await add(api, "r-notes.md")
    ws = await chat_ws()
    reply = (await ws.reply_to("Who won the 1998 football world cup?"))[-1]["data"]["message"]
    assert reply["content"] == NOTHING_FOUND
    assert reply["citations"] == []
