"""Hostile files written for tests, real bytes built in a moment and never held whole: PDF
bombs, PDF objects nested ten thousand deep, a notebook of 200 MB of output, damaged UTF-8."""

from __future__ import annotations

import json
import zlib
from typing import TYPE_CHECKING

from pdfs import _content_stream, _serialize

if TYPE_CHECKING:
    from pathlib import Path

MiB = 2**20

# About 1 MiB of text operators each; every copy of one compresses to the same bytes once the
# compressor is flushed in full (which forgets what came before). The first shows a word at a
# time, the second lines of a thousand characters.
_OPERATORS = b"BT /F1 12 Tf 72 720 Td (bomb) Tj ET\n" * 29_128
_LONG_LINES = (b"BT /F1 12 Tf 72 720 Td (" + b"bomb " * 200 + b") Tj ET\n") * 1_030
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _stream(data: bytes, filters: str = "") -> bytes:
    header = f"<< /Length {len(data)}{filters} >>\nstream\n".encode()
    return header + data + b"\nendstream"


def _page(content: int, extra: bytes = b"", parent: int = 2) -> bytes:
    return (
        (
            f"<< /Type /Page /Parent {parent} 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content} 0 R "
        ).encode()
        + extra
        + b" >>"
    )


def flate_bomb(mib: int, operators: bytes = _OPERATORS) -> bytes:
    """zlib data that inflates to `mib` MiB of text operators, compressed with zlib again: a
    Flate stream twice over, a few KB for gigabytes."""
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = raw.compress(operators) + raw.flush(zlib.Z_FULL_FLUSH)
    outer = zlib.compressobj(9)
    parts = [outer.compress(b"\x78\xda")]  # the inner zlib header, its checksum at the end
    check = 1
    for _ in range(mib):
        parts.append(outer.compress(chunk))
        check = zlib.adler32(operators, check)
    parts.append(outer.compress(raw.flush() + check.to_bytes(4, "big")))
    parts.append(outer.flush())
    return b"".join(parts)


def flate_bomb_pdf(mib: int = 4096) -> bytes:
    """One page whose content stream, [/FlateDecode /FlateDecode], inflates to `mib` MiB."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        3: _FONT,
        4: _page(5),
        5: _stream(flate_bomb(mib), " /Filter [/FlateDecode /FlateDecode]"),
    }
    return _serialize(objects)


def shared_stream_bomb_pdf(pages: int = 4096, mib: int = 1, *, long_lines: bool = False) -> bytes:
    """`pages` pages that all draw one small Flate stream of `mib` MiB of text operators
    (words, or with `long_lines` about a million characters of text a MiB): each part stays
    under the PDF reader's limits, the whole is gigabytes to interpret."""
    operators = _LONG_LINES if long_lines else _OPERATORS
    kids = " ".join(f"{5 + n} 0 R" for n in range(pages))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        3: _FONT,
        4: _stream(flate_bomb(mib, operators), " /Filter [/FlateDecode /FlateDecode]"),
    }
    for n in range(pages):
        objects[5 + n] = _page(4)
    return _serialize(objects)


def nested_pdf(depth: int = 10_000, *, where: str) -> bytes:
    """A one-page PDF ("Nested objects ahead") with an object nested `depth` levels deep:
    `where` is "page" (arrays in the page's own dictionary, read to read the page),
    "resource" (dictionaries in an object the page names but text extraction never reads)
    or "page tree" (page-tree nodes, each the only kid of the one above)."""
    arrays = b"[" * depth + b"1" + b"]" * depth
    dictionaries = b"<< /A " * depth + b"1" + b" >>" * depth
    objects = {3: _FONT, 5: _stream(_content_stream(["Nested objects ahead"]))}
    if where == "page tree":
        # 1 the catalog, 2 an unused name, then the nodes from 6 down to the page below them.
        objects[1] = b"<< /Type /Catalog /Pages 6 0 R >>"
        objects[2] = objects[4] = b"null"
        for node in range(6, 6 + depth):
            objects[node] = f"<< /Type /Pages /Kids [{node + 1} 0 R] /Count 1 >>".encode()
        objects[6 + depth] = _page(5, parent=5 + depth)
        return _serialize(objects)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>"
    if where == "page":
        objects[4] = _page(5, b"/Nest " + arrays)
    else:
        objects[4] = _page(5, b"/PieceInfo 6 0 R")
        objects[6] = dictionaries
    return _serialize(objects)


# A dump a loop prints, 100 characters a line.
_LINE = "row %08d " + "x" * 86 + "\n"
NOTEBOOK_PROSE = "A loop over the photosynthesis measurements printed every reading it took."


def write_output_notebook(path: Path, mib: int = 200, *, many_outputs: bool) -> Path:
    """Write, streaming, a notebook of a Markdown cell (NOTEBOOK_PROSE), then a code cell
    whose output is `mib` MiB of lines: one stream output of them as Jupyter saves a loop's
    prints (`many_outputs` False), or ten lines each in outputs of their own."""
    prose = {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": NOTEBOOK_PROSE}
    code = {"cell_type": "code", "id": "dump", "metadata": {}, "execution_count": 1}
    lines = mib * MiB // len(_LINE % 0)
    with path.open("w", encoding="utf-8") as out:
        out.write('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [')
        out.write(json.dumps(prose) + ", ")
        out.write(json.dumps({**code, "source": "for i in range(N): print(i)"})[:-1])
        out.write(', "outputs": [')
        if many_outputs:
            for start in range(0, lines, 10):
                text = [_LINE % n for n in range(start, start + 10)]
                output = {"output_type": "stream", "name": "stdout", "text": text}
                out.write(("," if start else "") + json.dumps(output))
        else:
            out.write('{"output_type": "stream", "name": "stdout", "text": [')
            out.write(",".join(json.dumps(_LINE % n) for n in range(lines)))
            out.write("]}")
        out.write("]}]}")
    return path


# UTF-8 course notes, and what a reader sees of them: the bytes between the pieces are
# invalid UTF-8 (a stray 0xff, "é" cut to its first byte, a lone continuation byte, an
# encoded surrogate).
DAMAGED_PIECES = (
    "# Crème brûlée\n\nLa crème brûlée est une crème cuite",
    " au four puis caramélisée au chalumeau.\n\nLe sucre fond",
    " puis durcit",
    " en une croûte fine",
    " et croquante, que l’on brise à la cuillère.\n",
)
_INVALID = (b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80")


def damaged_markdown() -> bytes:
    """DAMAGED_PIECES in UTF-8 with an invalid byte sequence between each two."""
    out = DAMAGED_PIECES[0].encode()
    for bad, piece in zip(_INVALID, DAMAGED_PIECES[1:], strict=True):
        out += bad + piece.encode()
    return out
