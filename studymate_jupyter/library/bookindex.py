"""Use a book's own back-of-book index (and contents pages) as search keywords for its pages.

A manual's index names each page's topics in words the running text may never use
("abbreviations, 22"): those entries become the `keywords` of the page they point to, a
column of their own in the search index. Navigation pages are found by their shape (most
lines end in page numbers, often after dot leaders); printed page numbers are mapped to PDF
page indexes by the offset between them that the running headers and footers show. The
navigation pages themselves are never passages: a dot leader is no answer to cite.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ..passages import ParsedUnit

# "term, 12, 15–17" / "term . . . . 12" / "1.2 Section title ........ 7"
_PAGES = re.compile(
    r"[\s.,…·]+(\d{1,5}(?:\s*[–-]\s*\d{1,5})?(?:\s*,\s*\d{1,5}(?:\s*[–-]\s*\d{1,5})?)*)$"
)
_DOT_LEADER = re.compile(r"(?:\.\s?){3,}\s*\d")
# A page number alone at either end of a header or footer line ("202 GNU Octave", "gnuplot 43").
_EDGE_NUMBER = re.compile(r"^\s*(\d{1,5})\b|\b(\d{1,5})\s*$")
_MAX_LINE = 200  # index lines are short; longer lines are prose (and bound the regex work)
# A page is a navigation page when this share of its (at least MIN_LINES) lines are entries.
NAVIGATION_SHARE = 0.6
MIN_LINES = 8
# Lines this short are an index's letter groups ("A", "%", "&&"), counted neither way.
_GROUP_LINE = 2
# The running page numbers must agree with one offset on at least this share of pages.
MIN_OFFSET_SHARE = 0.5
MAX_RANGE = 5  # "12–40" is a chapter, not a topic's page: ranges longer than this are skipped
MAX_KEYWORDS_PER_PAGE = 40


def _split(line: str) -> tuple[str, re.Match[str]] | None:
    """(text before the page numbers, their match) for a line ending in page numbers."""
    line = line.strip()
    if len(line) > _MAX_LINE:
        return None
    match = _PAGES.search(line)
    if match is None:
        return None
    leader = line[match.start() : match.start(1)]
    if leader == "." and line[match.start() - 1 : match.start()].isdigit():
        return None  # "spsum sum 3.6.0": a version or a decimal, not a page
    return line[: match.start()].strip(" .,…·"), match


def entry(line: str) -> tuple[str, list[tuple[int, int]]] | None:
    """(term, [(first, last) printed page ranges]) for an index or contents line, else None."""
    split = _split(line)
    if split is None:
        return None
    term, match = split
    if not any(char.isalpha() for char in term):
        return None
    ranges: list[tuple[int, int]] = []
    for part in match.group(1).split(","):
        first, _, last = part.strip().replace("–", "-").partition("-")
        start = int(first)
        end = int(last) if last else start
        if start <= end < start + MAX_RANGE:
            ranges.append((start, end))
    return (term, ranges) if ranges else None


def _is_entry_shaped(line: str) -> bool:
    # An operator's index line ("!= . . . . 10") is no keyword but still an index line; a
    # line of numbers without a dot leader ("[1,] 1 5 9") is console output.
    if entry(line) is not None:
        return True
    split = _split(line)
    return split is not None and bool(split[0]) and bool(_DOT_LEADER.search(line))


def is_navigation(text: str) -> bool:
    """True for contents and index pages: most lines are a title followed by page numbers."""
    lines = [line for line in text.split("\n") if len(line.strip()) > _GROUP_LINE]
    if len(lines) < MIN_LINES:
        return False
    entries = sum(1 for line in lines if _is_entry_shaped(line))
    return entries / len(lines) >= NAVIGATION_SHARE


def navigation_pages(units: Iterable[ParsedUnit]) -> frozenset[int]:
    """The pages of `units` that are contents or index pages."""
    return frozenset(unit.page for unit in units if is_navigation(unit.text))


def edge_numbers(line: str) -> list[int]:
    """The numbers at the start and end of a line, where headers and footers print the page."""
    return [int(m.group(1) or m.group(2)) for m in _EDGE_NUMBER.finditer(line[:_MAX_LINE])]


def page_offset(units: Sequence[ParsedUnit]) -> int | None:
    """PDF page index minus printed page number, if the running headers agree on one."""
    votes: Counter[int] = Counter()
    for unit in units:
        lines = [line for line in unit.text.split("\n") if line.strip()]
        for line in {*lines[:1], *lines[-1:]}:
            for number in edge_numbers(line):
                votes[unit.page - number] += 1
    if not votes or not units:
        return None
    offset, count = votes.most_common(1)[0]
    return offset if count >= MIN_OFFSET_SHARE * len(units) else None


def add_index_keywords(
    units: Sequence[ParsedUnit], page_count: int, navigation: frozenset[int] | None = None
) -> tuple[ParsedUnit, ...]:
    """The units with `keywords` from the document's index and contents pages, if it has any.

    Reads the running page numbers, so it takes the pages before their heads are removed;
    `navigation` is `navigation_pages(units)` when the caller has it already.
    """
    if navigation is None:
        navigation = navigation_pages(units)
    if not navigation:
        return tuple(units)
    offset = page_offset(units)
    if offset is None:
        return tuple(units)
    keywords: dict[int, dict[str, None]] = {}
    for unit in units:
        if unit.page not in navigation:
            continue
        for line in unit.text.split("\n"):
            found = entry(line)
            if found is None:
                continue
            term, ranges = found
            for start, end in ranges:
                for printed in range(start, end + 1):
                    page = printed + offset
                    # An entry pointing at a navigation page is a contents line about the index.
                    if 1 <= page <= page_count and page not in navigation:
                        keywords.setdefault(page, {})[" ".join(term.split())] = None
    return tuple(
        replace(unit, keywords=" ; ".join(list(keywords[unit.page])[:MAX_KEYWORDS_PER_PAGE]))
        if unit.page in keywords
        else unit
        for unit in units
    )


def without_navigation(
    units: Sequence[ParsedUnit], navigation: frozenset[int]
) -> tuple[ParsedUnit, ...]:
    """The units that are not contents or index pages: those are never cited or quoted.

    A document that is nothing but such pages keeps them, so it can still be found.
    """
    kept = tuple(unit for unit in units if unit.page not in navigation)
    return kept or tuple(units)
