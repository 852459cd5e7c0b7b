"""A model's `[n]` markers are made to agree with the citations kept beside them."""

from __future__ import annotations

from studymate_jupyter.assistant.markers import settle, strip

SOURCES = ["first", "second", "third"]


def test_markers_are_numbered_in_order_of_first_use_and_name_only_their_sources():
    text, cited = settle("A [3]. B [1]. C [3].", SOURCES)
    assert (text, cited) == ("A [1]. B [2]. C [1].", ["third", "first"])


def test_a_marker_naming_no_source_goes_with_the_space_before_it():
    assert settle("A [9]. B [2].", SOURCES) == ("A. B [1].", ["second"])


def test_a_marker_listing_several_keeps_those_that_exist_once_each():
    assert settle("A [2, 9, 2, 1].", SOURCES) == ("A [1, 2].", ["second", "first"])


def test_a_text_that_cites_nothing_keeps_no_sources():
    assert settle("No markers here.", SOURCES) == ("No markers here.", [])


def test_indexing_in_code_is_not_a_marker():
    text = "Use `xs[2]` [2].\n\n```python\nprint(xs[1])\n```\nThen [3]."
    assert settle(text, SOURCES) == (
        "Use `xs[2]` [1].\n\n```python\nprint(xs[1])\n```\nThen [2].",
        ["second", "third"],
    )


def test_a_code_block_still_open_while_streaming_is_left_alone():
    assert settle("See [1].\n```\nys[2]", SOURCES) == ("See [1].\n```\nys[2]", ["first"])


def test_a_markdown_link_is_not_a_marker():
    assert settle("[1](https://example.org) says so [3].", SOURCES) == (
        "[1](https://example.org) says so [1].",
        ["third"],
    )


def test_an_earlier_answers_markers_can_be_stripped():
    assert strip("A [1]. B [2, 3]. `c[1]`") == "A. B. `c[1]`"
