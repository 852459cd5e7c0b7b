"""Markdown: one unit per section (a heading and what follows it), anchored by the heading's
slug."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...passages import HEADING_SEPARATOR, ParsedDocument, ParsedUnit
from .text import clean_text, finish

if TYPE_CHECKING:
    from collections.abc import Iterator


ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def slugify(heading: str) -> str:
    """GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link slugs as its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = "".join(char for char in text if char.isalnum() or char in " -_")
    return text.replace(" ", "-")


class _SlugDeduper:
    """Gives repeated slugs GitHub's -1, -2 suffixes."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, heading: str) -> str:
        base = slugify(heading)
        slug = base
        while slug in self._seen:
            self._seen[base] += 1
            slug = f"{base}-{self._seen[base]}"
        self._seen[slug] = 0
        return slug


def markdown_sections(text: str) -> Iterator[tuple[int | None, str | None, list[str]]]:
    """(level, heading, body lines) per section; the preamble has no level or heading."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    level: int | None = None
    heading: str | None = None
    body: list[str] = []
    fence: str | None = None
    for line in lines:
        if fence is not None:
            body.append(line)
            if line.strip().startswith(fence):
                fence = None
            continue
        fence_match = _FENCE.match(line)
        if fence_match:
            fence = fence_match.group(1)
            body.append(line)
            continue
        atx = ATX_HEADING.match(line)
        setext = _SETEXT_UNDERLINE.match(line)
        if atx:
            yield level, heading, body
            level, heading, body = len(atx.group(1)), atx.group(2).strip(), []
        elif setext and body and body[-1].strip() and not body[-1].startswith((" " * 4, "\t")):
            # A paragraph line followed by === or --- is a level-1 or level-2 heading.
            title = body.pop().strip()
            yield level, heading, body
            level, heading, body = (1 if setext.group(1)[0] == "=" else 2), title, []
        else:
            body.append(line)
    yield level, heading, body


def heading_path(trail: list[tuple[int, str]], level: int, title: str) -> list[tuple[int, str]]:
    """The (level, title) trail of enclosing headings once a heading of `level` starts."""
    return [(lvl, name) for lvl, name in trail if lvl < level] + [(level, title)]


def path_text(trail: list[tuple[int, str]]) -> str:
    """A trail as a heading path, each title once ("Notes / Notes" is just "Notes")."""
    return HEADING_SEPARATOR.join(dict.fromkeys(title for _, title in trail if title))


def parse_markdown(text: str) -> ParsedDocument:
    """One unit per heading's section; page is the 1-based section number, anchor its slug."""
    dedupe = _SlugDeduper()
    units: list[ParsedUnit] = []
    trail: list[tuple[int, str]] = []  # (level, heading) of the enclosing headings
    number = 0
    for level, heading, body in markdown_sections(text):
        if heading is None or level is None:
            content = clean_text("\n".join(body))
            if content:  # a preamble before the first heading is section 1
                number += 1
                units.append(ParsedUnit(page=number, text=content))
            continue
        number += 1
        anchor = dedupe(heading)
        trail = heading_path(trail, level, heading)
        content = clean_text("\n".join([heading, *body]))
        units.append(
            ParsedUnit(
                page=number,
                text=content,
                anchor=anchor,
                heading=path_text(trail),
            )
        )
    return finish("markdown", number, units)
