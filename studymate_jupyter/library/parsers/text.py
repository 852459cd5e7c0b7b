"""Text hygiene shared by every parser (decoding, control characters, garbled text), plain
text cut into spans, and the end every parser shares."""

from __future__ import annotations

import re
import unicodedata

from ...passages import DocumentKind, ParsedDocument, ParsedUnit
from ..errors import IngestError

# Plain text has no structure to follow, so it is cut into spans of about this many words.
TEXT_SPAN_WORDS = 300


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
    """Decode a text file, or IngestError("binary file") if it is not text.

    UTF-8 with a few invalid bytes (a truncated character, a stray byte from a bad copy) is
    still UTF-8: the bad bytes become U+FFFD, which clean_text drops, and the rest reads as
    written. Bytes that are mostly invalid as UTF-8 are legacy 8-bit text, read as cp1252.
    """
    if b"\x00" in data[:65536]:
        raise IngestError("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _damaged_utf8_or_cp1252(data)
    if text and is_garbled(text[:65536], max_bad_ratio=0.05):
        raise IngestError("binary file")
    return text


def _damaged_utf8_or_cp1252(data: bytes) -> str:
    utf8 = data.decode("utf-8-sig", errors="replace")
    invalid = utf8.count("\ufffd") - data.count("\ufffd".encode())
    # Characters UTF-8 decoded beyond ASCII: cp1252 text ("caf\xe9") almost never forms one.
    beyond_ascii = len(utf8) - len(utf8.encode("ascii", errors="ignore"))
    decoded = beyond_ascii - utf8.count("\ufffd")
    if decoded >= invalid:
        return utf8
    # Legacy 8-bit text is still text; random bytes decode to many control characters.
    return data.decode("cp1252", errors="replace")


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
    return finish("text", len(units), units)


def finish(kind: DocumentKind, pages: int, units: list[ParsedUnit]) -> ParsedDocument:
    if not units:
        raise IngestError("no extractable text")
    return ParsedDocument(kind=kind, pages=pages, units=tuple(units))
