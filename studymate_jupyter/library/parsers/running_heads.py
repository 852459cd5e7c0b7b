"""PDF pages without their running heads, footers and page numbers.

A running line sits at the top or bottom of a page and repeats from page to page once the
numbers in it are ignored ("Chapter 7: Reading data from files 34", "An Introduction to R
35", a bare "36"). Two signals find them: the same line, numbers aside, near an edge of a
large share of the pages; or a short outermost line whose edge number is the page's printed
number, by the offset the document's running numbers agree on (a chapter's own head, which
repeats only over the chapter's pages). A line that merely recurs ("Example:", "endif") is
kept.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

from ..bookindex import page_offset
from .text import clean_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ...passages import ParsedUnit

# Shorter documents are left as they are: two pages cannot tell a head from a coincidence.
MIN_PAGES = 3
# A line (numbers aside) near an edge of this share of the pages, and of at least
# MIN_REPEATS, is a running line (alternating even and odd heads are each on half)...
REPEAT_SHARE = 0.2
MIN_REPEATS = 3
# ...if it is within this many lines of the top or bottom of the page...
EDGE_LINES = 2
# ...and no longer than this: longer lines are prose.
MAX_WORDS = 12

_DIGITS = re.compile(r"\d+")
# Roman page numbers of front matter (i to mmmcmxcix).
_ROMAN = re.compile(r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


def _key(line: str) -> str | None:
    """The line with its numbers ignored, or None if it is too long to be a running line."""
    words = line.lower().split()
    if not words or len(words) > MAX_WORDS:
        return None
    if len(words) > 1:
        # "Contents iii": a roman number beside words. Alone ("x", "C") it is too often
        # something else: a bare roman page number is found by its offset instead.
        for end in {0, len(words) - 1}:
            if _ROMAN.fullmatch(words[end]):
                words[end] = "#"
    key = _DIGITS.sub("#", " ".join(words))
    # Lines of only punctuation ("}", ">") end code listings; they are no heads.
    return key if any(char.isalnum() or char == "#" for char in key) else None


def _roman(line: str) -> int | None:
    """The value of a line that is one roman numeral, else None."""
    word = line.strip().lower()
    if not _ROMAN.fullmatch(word):
        return None
    values = [_ROMAN_VALUES[char] for char in word]
    # A smaller digit before a larger one is subtracted (iv, xc).
    return sum(-v if v < after else v for v, after in zip(values, [*values[1:], 0], strict=True))


def _edges(lines: Sequence[str]) -> list[int]:
    """Indexes of the first and last EDGE_LINES non-empty lines."""
    filled = [index for index, line in enumerate(lines) if line.strip()]
    return sorted({*filled[:EDGE_LINES], *filled[-EDGE_LINES:]})


def _prints_page(line: str, printed: int, repeated: bool) -> bool:
    """True if `line` shows page number `printed` as a head or footer would."""
    words = line.split()
    if words[-1] == str(printed):  # "Chapter 8: Probability distributions 37", or "37" alone
        return True
    # "1 Getting started" on printed page 1 is the chapter's title; "36 An Introduction to R"
    # is a head, and it is on other pages too.
    return words[0] == str(printed) and repeated


def _page_number_lines(
    units: Sequence[ParsedUnit],
    pages: Sequence[Sequence[str]],
    edges: Sequence[list[int]],
    repeats: Counter[str],
) -> set[tuple[int, int]]:
    """(page, line) indexes of outermost lines that print their page's number."""
    outer = [
        (number, index)
        for number, edge in enumerate(edges)
        for index in ({edge[0], edge[-1]} if edge else set())
        if _key(pages[number][index]) is not None
    ]
    found: set[tuple[int, int]] = set()
    offset = page_offset(units)
    if offset is not None:
        found |= {
            (number, index)
            for number, index in outer
            if _prints_page(
                pages[number][index],
                units[number].page - offset,
                repeats[_key(pages[number][index]) or ""] > 1,
            )
        }
    # Front matter counts in roman numerals, with an offset of its own.
    roman = {
        (number, index): units[number].page - value
        for number, index in outer
        if (value := _roman(pages[number][index])) is not None
    }
    votes = Counter(roman.values())
    found |= {place for place, shift in roman.items() if votes[shift] >= MIN_REPEATS}
    return found


def strip_running_lines(units: Sequence[ParsedUnit]) -> tuple[ParsedUnit, ...]:
    """The pages without their running lines; a page left with no text is dropped."""
    if len(units) < MIN_PAGES:
        return tuple(units)
    pages = [unit.text.split("\n") for unit in units]
    edges = [_edges(lines) for lines in pages]
    keys = [
        {index: _key(lines[index]) for index in edge}
        for lines, edge in zip(pages, edges, strict=True)
    ]
    repeats = Counter(key for page in keys for key in set(page.values()) if key is not None)
    least = max(MIN_REPEATS, math.ceil(REPEAT_SHARE * len(units)))
    numbered = _page_number_lines(units, pages, edges, repeats)
    kept: list[ParsedUnit] = []
    for number, (unit, lines) in enumerate(zip(units, pages, strict=True)):
        drop = {
            index
            for index, key in keys[number].items()
            if (key is not None and repeats[key] >= least) or (number, index) in numbered
        }
        if not drop:
            kept.append(unit)
            continue
        text = clean_text("\n".join(line for i, line in enumerate(lines) if i not in drop))
        if text:
            kept.append(replace(unit, text=text))
    return tuple(kept)
