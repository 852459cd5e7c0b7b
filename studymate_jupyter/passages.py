"""The value types every layer shares: a parsed file's units, the chunks cut from them, a
chat's scope, a search hit, and the citation a hit becomes.

They live at the bottom so the store, the library, the assistants and the chat can all use
them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .identity import COURSE_OWNER

if TYPE_CHECKING:
    from .protocol import Citation, LibraryName

DocumentKind = Literal["pdf", "markdown", "text", "notebook"]

# Joins units in ParsedDocument.text; chunk offsets index into that text.
UNIT_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class ParsedUnit:
    """One citable unit: a PDF page, a Markdown section, a text span or a notebook cell."""

    page: int
    text: str
    anchor: str | None = None
    heading: str = ""
    # Topics the document's own index or contents pages give for this page (bookindex.py).
    keywords: str = ""


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A parsed file: its kind, its page count and its non-empty units in page order."""

    kind: DocumentKind
    pages: int
    units: tuple[ParsedUnit, ...]

    @property
    def text(self) -> str:
        """The units' text joined by UNIT_SEPARATOR, the space chunk offsets refer to."""
        return UNIT_SEPARATOR.join(unit.text for unit in self.units)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage: its text, its 1-based page range, offsets into ParsedDocument.text."""

    index: int
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    text: str
    anchor: str | None
    heading: str
    # Index terms for the chunk's pages (ParsedUnit.keywords), searched in a column of their own.
    keywords: str = ""


def library_of(owner: str) -> LibraryName:
    return "course" if owner == COURSE_OWNER else "personal"


def readable_by(user_id: str) -> tuple[str, str]:
    """The owners whose documents a user reads: themselves and the course."""
    return (user_id, COURSE_OWNER)


@dataclass(frozen=True)
class Scope:
    """The part of a user's library a chat draws on; both None means all of it."""

    folder: str | None = None
    document_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Hit:
    """A passage that matched, with where it is and how well it matched (higher is better)."""

    rowid: int
    chunk_id: str
    document_id: str
    filename: str
    path: str
    page_start: int
    page_end: int
    anchor: str | None
    heading: str
    text: str
    score: float
    library: LibraryName = "personal"

    @property
    def section(self) -> str | None:
        return section_title(self.heading)


# Chunk.heading is the path of section titles down to the passage, joined by this.
HEADING_SEPARATOR = " / "


def section_title(heading: str) -> str | None:
    """The innermost section title of a heading path, or None when there is none."""
    titles = [title.strip() for title in heading.split(HEADING_SEPARATOR) if title.strip()]
    return titles[-1] if titles else None


def citation_of(hit: Hit) -> Citation:
    """The CitationResponse for a retrieved passage."""
    return {
        "document_id": hit.document_id,
        "chunk_id": hit.chunk_id,
        "filename": hit.filename,
        "path": hit.path,
        "page_start": hit.page_start,
        "page_end": hit.page_end,
        "score": hit.score,
        "anchor": hit.anchor,
        "section": hit.section,
        "library": hit.library,
    }
