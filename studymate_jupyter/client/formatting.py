"""Plain-text renderings shared by the terminal client and the widget."""

from __future__ import annotations

from collections.abc import Sequence

from ..protocol import Citation


def page_range(page_start: int, page_end: int) -> str:
    """``p.3`` for one page, ``p.3–5`` (en dash) for a range."""
    if page_end <= page_start:
        return f"p.{page_start}"
    return f"p.{page_start}\u2013{page_end}"


def format_citation(number: int, citation: Citation) -> str:
    """``[n] file p.X–Y`` as the issue specifies (``p.X`` when the range is one page)."""
    pages = page_range(citation["page_start"], citation["page_end"])
    return f"[{number}] {citation['filename']} {pages}"


def format_citations(citations: Sequence[Citation]) -> list[str]:
    """One line per citation, numbered from 1 in the order the server gave them."""
    return [format_citation(n, c) for n, c in enumerate(citations, start=1)]


def new_suffix(printed: str, content: str) -> str | None:
    """What to print of a grown ``content`` after ``printed``; ``None`` when the content no
    longer extends what is already on screen (the reply was rewritten)."""
    if content.startswith(printed):
        return content[len(printed) :]
    return None
