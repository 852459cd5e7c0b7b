"""PDF: one unit per page (the page index in the file), headings from the outline; running
heads and contents and index pages left out."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ...passages import ParsedDocument, ParsedUnit
from ..bookindex import add_index_keywords, navigation_pages, without_navigation
from ..errors import IngestError
from .running_heads import strip_running_lines
from .text import clean_text, is_garbled

if TYPE_CHECKING:
    from collections.abc import Iterable

TOO_DEEP = "PDF structure too deeply nested or too large to read"


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
    except LimitReachedError as error:
        raise IngestError(_limit_reason(error)) from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        # pypdf reports running out of stack or memory inside an object as a read error.
        causes = _causes(error)
        if any(isinstance(cause, MemoryError) for cause in causes):
            raise MemoryError from None  # the worker names the memory limit
        if any(isinstance(cause, RecursionError) for cause in causes):
            raise IngestError(TOO_DEEP) from None
        raise IngestError("corrupt or unreadable PDF") from None
    except RecursionError:
        # Objects nested thousands deep (arrays in arrays): read as far as Python's stack goes.
        raise IngestError(TOO_DEEP) from None
    except (AssertionError, ZeroDivisionError, OverflowError):
        # Hostile object graphs make pypdf fail in many ways; none of them is the user's bug.
        raise IngestError("corrupt or unreadable PDF") from None
    return ParsedDocument(kind="pdf", pages=page_count, units=_clean_pages(units, page_count))


def _causes(error: BaseException) -> list[BaseException]:
    """The exceptions that led to `error`, newest first (a bounded walk: chains can loop)."""
    causes: list[BaseException] = []
    cause = error.__cause__ or error.__context__
    while cause is not None and len(causes) < 20:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    return causes


def _limit_reason(error: BaseException) -> str:
    """pypdf's limits guard its decoders and its walks of the object graph (page tree depth,
    cycles, outline depth) alike: name the one that was reached."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    module = frame.tb_frame.f_globals.get("__name__", "") if frame is not None else ""
    if module == "pypdf.filters":
        return "PDF content too large to decompress"
    return TOO_DEEP


def _clean_pages(units: list[ParsedUnit], page_count: int) -> tuple[ParsedUnit, ...]:
    """Index keywords on the pages they name, then no running lines and no navigation pages."""
    # The keywords come first: printed page numbers are read from the running heads.
    navigation = navigation_pages(units)
    with_keywords = add_index_keywords(units, page_count, navigation)
    cleaned = without_navigation(strip_running_lines(with_keywords), navigation)
    if not cleaned:
        raise IngestError("no extractable text")
    return cleaned


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
