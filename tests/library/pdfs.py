"""Real PDF files written by hand for tests: text pages, no text, encrypted, corrupt, hostile."""

from __future__ import annotations

import zlib
from io import BytesIO
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content_stream(lines: Sequence[str]) -> bytes:
    """Helvetica 12 pt text, one line per entry, from the top-left of a Letter page."""
    ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
    for line in lines:
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def build_pdf(pages: Sequence[bytes | None], *, outline: Sequence[tuple[str, int]] = ()) -> bytes:
    """A PDF whose pages draw the given content streams (None: a page with no content).

    `outline` is (title, 0-based page index) bookmarks.
    """
    objects: dict[int, bytes] = {}
    page_count = len(pages)
    first_page = 4
    # 1: catalog, 2: page tree, 3: font, then per page (page, content), then outline objects.
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(page_count))
    outline_root = first_page + 2 * page_count
    catalog = b"<< /Type /Catalog /Pages 2 0 R"
    if outline:
        catalog += f" /Outlines {outline_root} 0 R".encode()
    objects[1] = catalog + b" >>"
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode()
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    for i, content in enumerate(pages):
        page_id, content_id = first_page + 2 * i, first_page + 2 * i + 1
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
        ).encode()
        stream = content if content is not None else b""
        objects[content_id] = (
            f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream"
        )
    if outline:
        items = [outline_root + 1 + i for i in range(len(outline))]
        objects[outline_root] = (
            f"<< /Type /Outlines /First {items[0]} 0 R /Last {items[-1]} 0 R /Count {len(items)} >>"
        ).encode()
        for n, (title, page) in enumerate(outline):
            links = f"/Parent {outline_root} 0 R"
            if n > 0:
                links += f" /Prev {items[n - 1]} 0 R"
            if n < len(items) - 1:
                links += f" /Next {items[n + 1]} 0 R"
            objects[items[n]] = (
                f"<< /Title ({_escape(title)}) {links} /Dest [{first_page + 2 * page} 0 R /Fit] >>"
            ).encode()
    return _serialize(objects)


def _serialize(objects: dict[int, bytes]) -> bytes:
    out = BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n")
    xref = out.tell()
    size = max(objects) + 1
    out.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
    for number in range(1, size):
        out.write(f"{offsets[number]:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def text_pdf(page_lines: Sequence[Sequence[str]], **kwargs: object) -> bytes:
    """A PDF with a text layer: one page per entry, each a list of lines."""
    return build_pdf([_content_stream(lines) for lines in page_lines], **kwargs)  # type: ignore[arg-type]


def image_only_pdf(pages: int = 2) -> bytes:
    """Pages that only paint shapes, as a scan without OCR would: no text layer."""
    drawing = b"0.5 g 72 72 468 648 re f 0 g 100 100 m 500 700 l S"
    return build_pdf([drawing] * pages)


def garbled_pdf() -> bytes:
    """A 'text' layer of control characters, as a PDF with a broken font encoding gives."""
    junk = "".join(chr(c) for c in range(1, 31) if chr(c) not in "\t\n\r") * 4
    return build_pdf([_content_stream([junk, junk])])


def encrypted_pdf(password: str = "s3cret") -> bytes:
    """A text PDF locked with a user password via pypdf's writer."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(BytesIO(text_pdf([["Secret lecture notes"]]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def corrupt_pdf() -> bytes:
    """A PDF header followed by noise: no objects, no xref, no trailer."""
    return b"%PDF-1.7\n" + bytes((i * 37 + 11) % 256 for i in range(4096))


def cyclic_pages_pdf() -> bytes:
    """A page tree whose node lists itself as its own kid: a naive walker never ends."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    }
    return _serialize(objects)


def bomb_pdf(inflated_mb: int = 1024) -> bytes:
    """One page whose Flate content stream inflates to `inflated_mb` MB of text operators."""
    compressor = zlib.compressobj(9)
    block = b"BT /F1 12 Tf 72 720 Td (bomb) Tj ET\n" * 28_000  # about 1 MB
    parts = [compressor.compress(block) for _ in range(inflated_mb)]
    parts.append(compressor.flush())
    stream = b"".join(parts)
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
        ),
        4: f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode()
        + stream
        + b"\nendstream",
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    return _serialize(objects)


def write(path: Path, data: bytes) -> Path:
    """Write bytes to `path` and return it."""
    path.write_bytes(data)
    return path


# A short R manual as a printed book lays it out: a title page, a contents page, six numbered
# pages (printed n on PDF page n + 2) under running heads that alternate between even and odd
# pages, a bare page number where a chapter starts, an unnumbered footer, and an index page.
MANUAL_EVEN_HEAD = "{n} A Short Manual of R"
MANUAL_FOOTER = "Draft course notes, please do not circulate"
MANUAL_REPEATED_LINE = "Remember to save your workspace before you quit."
MANUAL_CODE = ["> x <- c(1, 2, 3)", "> x * 2", "[1] 2 4 6", "> length(x)", "[1] 3"]


def manual_page_lines() -> list[list[str]]:
    """The manual's pages, each a list of lines (see MANUAL_* for the parts tests look for)."""
    even = MANUAL_EVEN_HEAD.format
    title = ["A Short Manual of R", "Notes for the first course in statistics", "Version 1.0"]
    contents = ["Contents"] + [
        f"{entry} . . . . . . . . . . . . {page}"
        for entry, page in [
            ("1 Getting started", 1),
            ("1.1 Starting a session", 1),
            ("1.2 The workspace", 2),
            ("1.3 Getting help", 3),
            ("2 Vectors", 4),
            ("2.1 Assignment", 4),
            ("2.2 Vector arithmetic", 5),
            ("2.3 Factors", 6),
            ("Index", 7),
        ]
    ]
    body = [
        [
            "1 Getting started",
            "Start a session by typing R at the shell prompt of a terminal window.",
            "The program greets you with its version and a prompt that waits for commands.",
            "To leave the program, call the function q with no arguments at the prompt,",
            "and it will then ask whether the session should be kept for later.",
            MANUAL_FOOTER,
            "1",
        ],
        [
            even(n=2),
            "Everything you create lives in the workspace, a collection of named objects.",
            "The function ls lists those objects and rm deletes the ones you no longer need.",
            MANUAL_REPEATED_LINE,
            "A saved workspace is restored automatically the next time you start a session",
            "in the same directory, together with the history of the commands you typed.",
            MANUAL_FOOTER,
        ],
        [
            "Chapter 1: Getting started 3",
            "Every function has a help page: type a question mark before its name to read it.",
            "The help pages end with examples that you can run with the function example,",
            "and help.search finds pages by words when you do not know the function name.",
            "Vignettes are longer documents that some packages ship beside their help pages.",
            MANUAL_FOOTER,
        ],
        [
            "4",
            "2 Vectors",
            "The simplest structure is the numeric vector, an ordered collection of numbers.",
            "The function c combines its arguments end to end into one vector, and the arrow",
            "assigns the result to a name so that you can use it again in later commands.",
            MANUAL_REPEATED_LINE,
            MANUAL_FOOTER,
        ],
        [
            "Chapter 2: Vectors 5",
            "Arithmetic on vectors works element by element, as this short session shows:",
            *MANUAL_CODE,
            "When two vectors differ in length, the shorter one is repeated until it is as long",
            "as the longer one, and a warning is given if the longer length is not a multiple.",
            MANUAL_FOOTER,
        ],
        [
            even(n=6),
            "A factor stores categorical data such as the state each student comes from.",
            "The function factor turns a character vector into a factor, and levels returns",
            "the distinct categories it found, sorted in alphabetical order by default.",
            "Tables of counts per category come from the function table applied to a factor.",
            MANUAL_FOOTER,
        ],
    ]
    index = [
        "Index 7",
        "assignment, 4",
        "c function . . . . . . . . 4",
        "categorical data, 6",
        "help pages, 3",
        "quitting R, 1",
        "recycling rule, 5",
        "element-wise arithmetic, 5",
        "workspace image, 2",
        "levels, 6",
    ]
    return [title, contents, *body, index]


def manual_pdf() -> bytes:
    """The short R manual of manual_page_lines() as a PDF."""
    return text_pdf(manual_page_lines())
