"""Use a book's own back-of-book index (and contents pages) as search keywords for its pages.

A manual's index names each page's topics in words the running text may never use
("abbreviations, 22"): those entries become the `keywords` of the page they point to, a
column of their own in the search index. Navigation pages are found by their shape (most
lines end in page numbers, often after dot leaders); printed page numbers are mapped to PDF
page indexes by the offset between them that the running headers and footers show.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..passages import ParsedUnit

# "term, 12, 15–17" / "term . . . . 12" / "1.2 Section title ........ 7"
_PAGES = re.compile(
    r"[\s.,…·]+(\d{1,5}(?:\s*[–-]\s*\d{1,5})?(?:\s*,\s*\d{1,5}(?:\s*[–-]\s*\d{1,5})?)*)$"
)
# A page number alone at either end of a header or footer line ("202 GNU Octave", "gnuplot 43").
_EDGE_NUMBER = re.compile(r"^\s*(\d{1,5})\b|\b(\d{1,5})\s*$")
_MAX_LINE = 200  # index lines are short; longer lines are prose (and bound the regex work)
# A page is a navigation page when this share of its (at least MIN_LINES) lines are entries.
NAVIGATION_SHARE = 0.6
MIN_LINES = 8
# The running page numbers must agree with one offset on at least this share of pages.
MIN_OFFSET_SHARE = 0.5
MAX_RANGE = 5  # "12–40" is a chapter, not a topic's page: ranges longer than this are skipped
MAX_KEYWORDS_PER_PAGE = 40


def entry(line: str) -> tuple[str, list[tuple[int, int]]] | None:
    """(term, [(first, last) printed page ranges]) for an index or contents line, else None."""
    line = line.strip()
    if len(line) > _MAX_LINE:
        return None
    match = _PAGES.search(line)
    if match is None:
        return None
    term = line[: match.start()].strip(" .,…·")
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


def is_navigation(text: str) -> bool:
    """True for contents and index pages: most lines are a title followed by page numbers."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < MIN_LINES:
        return False
    entries = sum(1 for line in lines if entry(line) is not None)
    return entries / len(lines) >= NAVIGATION_SHARE


def page_offset(units: Sequence[ParsedUnit]) -> int | None:
    """PDF page index minus printed page number, if the running headers agree on one."""
    votes: Counter[int] = Counter()
    for unit in units:
        lines = [line for line in unit.text.split("\n") if line.strip()]
        for line in {*lines[:1], *lines[-1:]}:
            for match in _EDGE_NUMBER.finditer(line[:_MAX_LINE]):
                votes[unit.page - int(match.group(1) or match.group(2))] += 1
    if not votes or not units:
        return None
    offset, count = votes.most_common(1)[0]
    return offset if count >= MIN_OFFSET_SHARE * len(units) else None


def add_index_keywords(units: Sequence[ParsedUnit], page_count: int) -> tuple[ParsedUnit, ...]:
    """The units with `keywords` from the document's index and contents pages, if it has any."""
    navigation = {unit.page for unit in units if is_navigation(unit.text)}
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
