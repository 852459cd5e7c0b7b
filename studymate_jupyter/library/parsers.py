"""Turn a file into numbered units (PDF pages, Markdown sections, text spans, notebook cells)."""

from __future__ import annotations

import json
import re
import unicodedata
import warnings
from typing import TYPE_CHECKING, Any

from ..passages import DocumentKind, ParsedDocument, ParsedUnit
from .bookindex import add_index_keywords
from .errors import IngestError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
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

# Plain text has no structure to follow, so it is cut into spans of about this many words.
TEXT_SPAN_WORDS = 300
# Outputs longer than this are data dumps, not prose a student would ask about.
MAX_OUTPUT_CHARS = 2000


# Joins units in ParsedDocument.text; chunk offsets index into that text.
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
        check_size(path.stat().st_size, max_bytes)
        data = _read_at_most(path, max_bytes)
    except OSError:
        raise IngestError("file could not be read") from None
    return parse_bytes(data, kind)


def _read_at_most(path: Path, max_bytes: int) -> bytes:
    # Read in blocks, not read(max_bytes + 1): that allocates the whole limit up front, and
    # the file may have grown since it was measured.
    blocks: list[bytes] = []
    total = 0
    with path.open("rb") as handle:
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


# --- text hygiene -------------------------------------------------------------------------

_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs"})


def _is_bad_char(char: str) -> bool:
    if char in "\n\t\r":
        return False
    return char == "\ufffd" or unicodedata.category(char) in _BAD_CATEGORIES


def is_garbled(text: str, *, max_bad_ratio: float = 0.2) -> bool:
    """True if too much of `text` is control, private-use or replacement characters."""
    visible = [char for char in text if not char.isspace()]
    if not visible:
        return True
    bad = sum(1 for char in visible if _is_bad_char(char))
    return bad / len(visible) > max_bad_ratio


def clean_text(text: str) -> str:
    """Drop stray control characters and trailing spaces; keep line structure."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(char for char in text if not _is_bad_char(char))
    lines = [line.rstrip() for line in text.split("\n")]
    # Collapse runs of blank lines: they carry no meaning and waste chunk space.
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def decode_text(data: bytes) -> str:
    """Decode a text file, or IngestError("binary file") if it is not text."""
    if b"\x00" in data[:65536]:
        raise IngestError("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Legacy 8-bit text is still text; random bytes decode to many control characters.
        text = data.decode("cp1252", errors="replace")
    if text and is_garbled(text[:65536], max_bad_ratio=0.05):
        raise IngestError("binary file")
    return text


# --- PDF ----------------------------------------------------------------------------------


def parse_pdf(data: bytes) -> ParsedDocument:
    """One unit per PDF page with a text layer; page numbers are 1-based page indexes."""
    from io import BytesIO

    # pypdf is imported here so the Markdown and notebook paths do not pay for it.
    from pypdf import PdfReader
    from pypdf.errors import (
        DependencyError,
        FileNotDecryptedError,
        LimitReachedError,
        PyPdfError,
    )

    try:
        with warnings.catch_warnings():
            # pypdf warns about every malformed object; the outcome is what matters.
            warnings.simplefilter("ignore")
            reader = PdfReader(BytesIO(data))
            if reader.is_encrypted and not _decrypt_with_empty_password(reader):
                raise IngestError("encrypted PDF")
            page_count = len(reader.pages)
            headings = _pdf_headings(reader, page_count)
            units: list[ParsedUnit] = []
            for index, page in enumerate(reader.pages):
                raw = page.extract_text() or ""
                if is_garbled(raw):
                    continue
                text = clean_text(raw)
                if text:
                    units.append(ParsedUnit(page=index + 1, text=text, heading=headings[index]))
    except IngestError:
        raise
    except (FileNotDecryptedError, DependencyError):
        raise IngestError("encrypted PDF") from None
    except LimitReachedError:
        raise IngestError("PDF content too large to decompress") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        raise IngestError("corrupt or unreadable PDF") from None
    except (RecursionError, AssertionError, ZeroDivisionError, OverflowError):
        # Hostile object graphs make pypdf fail in many ways; none of them is the user's bug.
        raise IngestError("corrupt or unreadable PDF") from None
    if not units:
        raise IngestError("no extractable text")
    return ParsedDocument(kind="pdf", pages=page_count, units=add_index_keywords(units, page_count))


def _decrypt_with_empty_password(reader: Any) -> bool:
    # Many PDFs are "encrypted" only with an owner password to forbid printing; they open.
    from pypdf import PasswordType

    try:
        return bool(reader.decrypt("") != PasswordType.NOT_DECRYPTED)
    except Exception:
        return False


def _pdf_headings(reader: Any, page_count: int) -> list[str]:
    """For each page, the outline path in force there plus titles of sections it starts."""
    entries: list[tuple[int, int, str]] = []  # (page index, depth, title)

    def walk(items: Iterable[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
                title = str(item.title)
            except Exception:
                continue
            if page is not None and 0 <= page < page_count:
                entries.append((page, depth, " ".join(title.split())))

    try:
        walk(reader.outline, 0)
    except Exception:
        # A broken outline costs headings, not the document.
        return [""] * page_count
    entries.sort(key=lambda entry: entry[0])
    headings: list[str] = []
    path: list[str] = []
    position = 0
    for page in range(page_count):
        started: list[str] = []
        while position < len(entries) and entries[position][0] == page:
            _, depth, title = entries[position]
            del path[depth:]
            path.append(title)
            started.append(title)
            position += 1
        # The breadcrumb names where the page sits; titles started here name what it holds.
        titles = list(dict.fromkeys([*path[:-1], *started, *path[-1:]]))
        headings.append(" / ".join(titles))
    return headings


# --- Markdown -----------------------------------------------------------------------------

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
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


def _markdown_sections(text: str) -> Iterator[tuple[int | None, str | None, list[str]]]:
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
        atx = _ATX_HEADING.match(line)
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


def parse_markdown(text: str) -> ParsedDocument:
    """One unit per heading's section; page is the 1-based section number, anchor its slug."""
    dedupe = _SlugDeduper()
    units: list[ParsedUnit] = []
    trail: list[tuple[int, str]] = []  # (level, heading) of the enclosing headings
    number = 0
    for level, heading, body in _markdown_sections(text):
        if heading is None or level is None:
            content = clean_text("\n".join(body))
            if content:  # a preamble before the first heading is section 1
                number += 1
                units.append(ParsedUnit(page=number, text=content))
            continue
        number += 1
        anchor = dedupe(heading)
        trail = [(lvl, title) for lvl, title in trail if lvl < level] + [(level, heading)]
        content = clean_text("\n".join([heading, *body]))
        units.append(
            ParsedUnit(
                page=number,
                text=content,
                anchor=anchor,
                heading=" / ".join(title for _, title in trail),
            )
        )
    return _finish("markdown", number, units)


# --- plain text ---------------------------------------------------------------------------


def parse_plain_text(text: str, *, span_words: int = TEXT_SPAN_WORDS) -> ParsedDocument:
    """Spans of about `span_words` words, cut at paragraph ends where possible."""
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", clean_text(text)) if p.strip()]
    spans: list[str] = []
    current: list[str] = []
    count = 0
    for paragraph in paragraphs:
        words = paragraph.split()
        if count and count + len(words) > span_words:
            spans.append("\n\n".join(current))
            current, count = [], 0
        if len(words) > span_words:
            # A wall of text without blank lines: cut it by words.
            for start in range(0, len(words), span_words):
                piece = words[start : start + span_words]
                if len(piece) == span_words:
                    spans.append(" ".join(piece))
                else:
                    current, count = [" ".join(piece)], len(piece)
            continue
        current.append(paragraph)
        count += len(words)
    if current:
        spans.append("\n\n".join(current))
    units = [ParsedUnit(page=index + 1, text=span) for index, span in enumerate(spans)]
    return _finish("text", len(units), units)


# --- notebooks ----------------------------------------------------------------------------


def parse_notebook(text: str) -> ParsedDocument:
    """One unit per non-empty cell; page is the 1-based cell number, anchor the cell id."""
    import nbformat

    try:
        raw = json.loads(text)
        with warnings.catch_warnings():
            # Old notebooks lack cell ids; nbformat warns while upgrading them.
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4)  # type: ignore[no-untyped-call]
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        raise IngestError("corrupt or unreadable notebook") from None
    # Ids that nbformat invents while upgrading change on every read: use only stored ones.
    raw_cells = raw.get("cells", []) if isinstance(raw, dict) else []
    units: list[ParsedUnit] = []
    heading = ""
    cells = list(notebook.get("cells", []))
    for index, cell in enumerate(cells):
        stored = raw_cells[index] if index < len(raw_cells) else {}
        cell_id = stored.get("id") if isinstance(stored, dict) else None
        source = _join_source(cell.get("source", ""))
        cell_type = cell.get("cell_type")
        parts = [source] if source.strip() else []
        if cell_type == "markdown":
            for line in source.split("\n"):
                match = _ATX_HEADING.match(line)
                if match:
                    heading = match.group(2).strip()
        elif cell_type == "code":
            parts.extend(_output_texts(cell.get("outputs", [])))
        elif cell_type != "raw":
            continue
        content = clean_text("\n\n".join(parts))
        if content:
            units.append(
                ParsedUnit(
                    page=index + 1,
                    text=content,
                    anchor=cell_id if isinstance(cell_id, str) else None,
                    heading=heading,
                )
            )
    return _finish("notebook", len(cells), units)


def _join_source(source: Any) -> str:
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return str(source)


def _output_texts(outputs: Iterable[Any]) -> Iterator[str]:
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            text = _join_source(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            text = _join_source(output.get("data", {}).get("text/plain", ""))
        elif kind == "error":
            text = f"{output.get('ename', '')}: {output.get('evalue', '')}"
        else:
            continue
        if text.strip() and len(text) <= MAX_OUTPUT_CHARS:
            yield text


def _finish(kind: DocumentKind, pages: int, units: list[ParsedUnit]) -> ParsedDocument:
    if not units:
        raise IngestError("no extractable text")
    return ParsedDocument(kind=kind, pages=pages, units=tuple(units))
