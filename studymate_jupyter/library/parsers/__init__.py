"""Turn a file into numbered units (PDF pages, Markdown sections, text spans, notebook cells):
the file types the library takes, and which parser reads each."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, BinaryIO

from ...passages import DocumentKind, ParsedDocument
from ..errors import IngestError
from .markdown import parse_markdown
from .notebook import parse_notebook
from .pdf import parse_pdf
from .text import decode_text, parse_plain_text

if TYPE_CHECKING:
    from pathlib import Path

SUFFIX_KINDS: dict[str, DocumentKind] = {
    ".pdf": "pdf",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
    ".ipynb": "notebook",
}
SUPPORTED_SUFFIXES = frozenset(SUFFIX_KINDS)


def kind_for(path: Path) -> DocumentKind:
    """The document kind for a file name, or IngestError if the type is not supported."""
    kind = SUFFIX_KINDS.get(path.suffix.lower())
    if kind is None:
        suffix = path.suffix.lower() or "(none)"
        raise IngestError(f"unsupported file type {suffix}")
    return kind


def check_size(size: int, max_bytes: int) -> None:
    """Raise IngestError if a file of `size` bytes is over the limit."""
    if size > max_bytes:
        raise IngestError(
            f"file too large ({size / 2**20:.1f} MB > {max_bytes / 2**20:.1f} MB limit)"
        )


def parse_file(path: Path, *, max_bytes: int) -> ParsedDocument:
    """Parse a file in this process (no time or memory limit: see worker.parse_document)."""
    kind = kind_for(path)
    try:
        handle = path.open("rb")
    except OSError:
        raise IngestError("file could not be read") from None
    with handle:
        return parse_open_file(handle, kind, max_bytes=max_bytes)


def parse_open_file(handle: BinaryIO, kind: DocumentKind, *, max_bytes: int) -> ParsedDocument:
    """Parse an open file of a known kind from its start (the worker's child reads the file
    the server opened and checked, never a path, and shares its read position)."""
    try:
        check_size(os.fstat(handle.fileno()).st_size, max_bytes)
        handle.seek(0)
        data = _read_at_most(handle, max_bytes)
    except OSError:
        raise IngestError("file could not be read") from None
    return parse_bytes(data, kind)


def _read_at_most(handle: BinaryIO, max_bytes: int) -> bytes:
    # Read in blocks, not read(max_bytes + 1): that allocates the whole limit up front, and
    # the file may have grown since it was measured.
    blocks: list[bytes] = []
    total = 0
    while block := handle.read(2**20):
        total += len(block)
        check_size(total, max_bytes)
        blocks.append(block)
    return b"".join(blocks)


def parse_bytes(data: bytes, kind: DocumentKind) -> ParsedDocument:
    """Parse a file's content of a known kind."""
    if kind == "pdf":
        return parse_pdf(data)
    text = decode_text(data)
    if kind == "markdown":
        return parse_markdown(text)
    if kind == "notebook":
        return parse_notebook(text)
    return parse_plain_text(text)
