"""Plain-text renderings shared by the terminal client and the widget."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..protocol import Citation, Passage

#: Names a section in a citation: ``notes.md § Factors``.
SECTION_SIGN = "\u00a7"


def page_range(page_start: int, page_end: int) -> str:
    """``p.3`` for one page, ``p.3–5`` (en dash) for a range."""
    if page_end <= page_start:
        return f"p.{page_start}"
    return f"p.{page_start}\u2013{page_end}"


def cited_section(cited: Citation | Passage) -> str | None:
    """The section a citation is named by: set when it has both an anchor and a section
    (a Markdown section, a notebook cell); ``None`` for a PDF's pages."""
    section = cited.get("section")
    return section if cited.get("anchor") and section else None


def cited_place(cited: Citation | Passage) -> str:
    """``§ Factors`` for a section, else ``p.X–Y`` (``p.X`` when the range is one page)."""
    section = cited_section(cited)
    if section is not None:
        return f"{SECTION_SIGN} {section}"
    return page_range(cited["page_start"], cited["page_end"])


def format_citation(number: int, citation: Citation) -> str:
    """``[n] file p.X–Y`` as the issue specifies, or ``[n] file § Section`` for a section."""
    return f"[{number}] {citation['filename']} {cited_place(citation)}"


def format_citations(citations: Sequence[Citation]) -> list[str]:
    """One line per citation, numbered from 1 in the order the server gave them."""
    return [format_citation(n, c) for n, c in enumerate(citations, start=1)]


def new_suffix(printed: str, content: str) -> str | None:
    """What to print of a grown ``content`` after ``printed``; ``None`` when the content no
    longer extends what is already on screen (the reply was rewritten)."""
    if content.startswith(printed):
        return content[len(printed) :]
    return None


def local_time(timestamp: str) -> str:
    """A server timestamp (ISO 8601 UTC) as this machine's local ``YYYY-MM-DD HH:MM``; the
    text as it is when it is not a timestamp."""
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
