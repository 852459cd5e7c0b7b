"""Cut a parsed document into overlapping, page-aware chunks for the search index."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..passages import UNIT_SEPARATOR, Chunk

if TYPE_CHECKING:
    from ..passages import ParsedDocument, ParsedUnit

# Short windows are dominated by one topic, and the overlap keeps a sentence that straddles a
# cut whole in at least one window. all-MiniLM-L6-v2 reads 256 tokens at most (about 150
# words of prose, fewer of code): 80-word windows overlapping by 40 lose nothing to that
# limit, and beat 150-word ones for every signal on held-out student questions (issue 12).
CHUNK_WORDS = 80
OVERLAP_WORDS = 40
# A unit shorter than this (a heading-only section, a one-line cell) joins the next ones so
# it is not a chunk of its own that matches on a single word...
MIN_WORDS = 30
# ...but a chunk never spans more than this many units, so its page range stays precise.
MAX_UNITS_PER_CHUNK = 3

_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class _Word:
    start: int  # offset in the document text
    end: int
    unit: int  # index in ParsedDocument.units


def chunk_document(
    document: ParsedDocument,
    *,
    chunk_words: int = CHUNK_WORDS,
    overlap_words: int = OVERLAP_WORDS,
    min_words: int = MIN_WORDS,
    max_units: int = MAX_UNITS_PER_CHUNK,
) -> list[Chunk]:
    """Overlapping word windows inside groups of units; a chunk never crosses a group."""
    if chunk_words <= 0 or not 0 <= overlap_words < chunk_words:
        raise ValueError("need chunk_words > 0 and 0 <= overlap_words < chunk_words")
    text = document.text
    by_unit = _words(document)
    chunks: list[Chunk] = []
    for group in _groups(document.units, [len(w) for w in by_unit], min_words, max_units):
        group_words = [word for unit in group for word in by_unit[unit]]
        for start, end in _windows(len(group_words), chunk_words, overlap_words):
            first, last = group_words[start], group_words[end - 1]
            units = [document.units[first.unit], document.units[last.unit]]
            chunks.append(
                Chunk(
                    index=len(chunks),
                    page_start=units[0].page,
                    page_end=units[1].page,
                    char_start=first.start,
                    char_end=last.end,
                    text=text[first.start : last.end],
                    anchor=units[0].anchor,
                    heading=_heading(document.units, first.unit, last.unit),
                    keywords=_keywords(document.units, first.unit, last.unit),
                )
            )
    return chunks


def _words(document: ParsedDocument) -> list[list[_Word]]:
    """Each unit's words, with offsets in the document text."""
    by_unit: list[list[_Word]] = []
    offset = 0
    for index, unit in enumerate(document.units):
        by_unit.append(
            [_Word(offset + m.start(), offset + m.end(), index) for m in _WORD.finditer(unit.text)]
        )
        offset += len(unit.text) + len(UNIT_SEPARATOR)
    return by_unit


def _joins(units: tuple[ParsedUnit, ...], before: int, unit: int) -> bool:
    """Whether a unit may share a chunk with the one before it. Not across a page left out of
    the units (a contents page: the citation would span it), and not into another section
    where units are cited by their section (Markdown, notebooks), or it would be misnamed."""
    if units[unit].page > units[before].page + 1:
        return False
    return units[unit].anchor is None or units[unit].heading == units[before].heading


def _groups(
    units: tuple[ParsedUnit, ...], counts: list[int], min_words: int, max_units: int
) -> list[tuple[int, ...]]:
    """Consecutive unit indexes chunked together: short units join their successors."""
    groups: list[tuple[int, ...]] = []
    current: list[int] = []
    total = 0
    for index, count in enumerate(counts):
        if current and not _joins(units, current[-1], index):
            groups.append(tuple(current))
            current, total = [], 0
        current.append(index)
        total += count
        if total >= min_words or len(current) >= max_units:
            groups.append(tuple(current))
            current, total = [], 0
    if current:
        # A short tail joins the group before it when that keeps the page range small.
        follows = groups and _joins(units, groups[-1][-1], current[0])
        if follows and len(groups[-1]) + len(current) <= max_units:
            groups[-1] = groups[-1] + tuple(current)
        else:
            groups.append(tuple(current))
    return groups


def _windows(count: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """[start, end) word windows covering `count` words; the last one is never a sliver."""
    if count <= size:
        return [(0, count)] if count else []
    step = size - overlap
    windows: list[tuple[int, int]] = []
    start = 0
    while start + size < count:
        windows.append((start, start + size))
        start += step
    # The remainder is a full-size window ending at the last word, so no window is tiny.
    windows.append((max(0, count - size), count))
    return windows


def _heading(units: tuple[ParsedUnit, ...], first: int, last: int) -> str:
    # The first unit's path, whatever `last` is: the chunk's anchor names that unit, so the
    # section shown must be the one the anchor points at. Later titles go to _keywords.
    return units[first].heading


def _keywords(units: tuple[ParsedUnit, ...], first: int, last: int) -> str:
    from ..passages import HEADING_SEPARATOR

    terms = [
        term
        for index in range(first, last + 1)
        for term in units[index].keywords.split(" ; ")
        if term
    ]
    # The later units' section titles, which the heading leaves out, still rank the chunk.
    shown = set(units[first].heading.split(HEADING_SEPARATOR))
    terms += [
        title
        for index in range(first + 1, last + 1)
        for title in units[index].heading.split(HEADING_SEPARATOR)
        if title and title not in shown
    ]
    return " ; ".join(dict.fromkeys(terms))
