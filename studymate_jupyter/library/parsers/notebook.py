"""Notebooks: one unit per non-empty cell (its 1-based number), anchored by the cell id, under
the path of the Markdown headings above it."""

from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING, Any

from ...passages import ParsedDocument, ParsedUnit
from ..errors import IngestError
from .markdown import heading_path, markdown_sections, path_text
from .text import clean_text, finish

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

# Outputs longer than this are data dumps, not prose a student would ask about.
MAX_OUTPUT_CHARS = 2000
# Nor is output past this much in one notebook (a loop that printed a million short lines as
# many outputs): the cells' sources are still read, their outputs are left out.
MAX_NOTEBOOK_OUTPUT_CHARS = 500_000


def parse_notebook(text: str) -> ParsedDocument:
    """One unit per non-empty cell; page is the 1-based cell number, anchor the cell id."""
    try:
        raw = json.loads(text)
        notebook = raw if _is_v4(raw) else _upgraded(raw)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        raise IngestError("corrupt or unreadable notebook") from None
    # Ids that nbformat invents while upgrading change on every read: use only stored ones.
    raw_cells = raw.get("cells", []) if isinstance(raw, dict) else []
    units: list[ParsedUnit] = []
    trail: list[tuple[int, str]] = []  # (level, title) of the headings in force
    cells = list(notebook.get("cells", []))
    budget = _Budget(MAX_NOTEBOOK_OUTPUT_CHARS)
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        stored = raw_cells[index] if index < len(raw_cells) else {}
        cell_id = stored.get("id") if isinstance(stored, dict) else None
        source = _join_source(cell.get("source", ""))
        cell_type = cell.get("cell_type")
        parts = [source] if source.strip() else []
        if cell_type == "markdown":
            # Section by section, so a "# comment" in a fenced code block is no heading.
            for level, title, _ in markdown_sections(source):
                if level is not None and title:
                    trail = heading_path(trail, level, title)
        elif cell_type == "code":
            parts.extend(budget.take(_output_texts(cell.get("outputs", []))))
        elif cell_type != "raw":
            continue
        content = clean_text("\n\n".join(parts))
        if content:
            units.append(
                ParsedUnit(
                    page=index + 1,
                    text=content,
                    anchor=cell_id if isinstance(cell_id, str) else None,
                    heading=path_text(trail),
                )
            )
    return finish("notebook", len(cells), units)


def _is_v4(raw: Any) -> bool:
    # Read as it is: nbformat would parse the text again and validate every output (twice the
    # memory of a notebook of big outputs, and its time) for fields read here with care anyway.
    return isinstance(raw, dict) and raw.get("nbformat") == 4 and isinstance(raw.get("cells"), list)


def _upgraded(raw: Any) -> Any:
    """An older notebook (version 3 kept cells in worksheets) as version 4."""
    import nbformat

    try:
        with warnings.catch_warnings():
            # Old notebooks lack cell ids; nbformat warns while upgrading them.
            warnings.simplefilter("ignore")
            return nbformat.convert(nbformat.from_dict(raw), 4)  # type: ignore[no-untyped-call]
    except Exception:
        # No version, or not one nbformat knows (its schema errors are no ValueError).
        raise IngestError("corrupt or unreadable notebook") from None


class _Budget:
    """Output text a notebook may still contribute, in characters."""

    def __init__(self, chars: int) -> None:
        self.left = chars

    def take(self, texts: Iterable[str]) -> Iterator[str]:
        for text in texts:
            if len(text) > self.left:
                self.left = 0
                return
            self.left -= len(text)
            yield text


def _join_source(source: Any) -> str:
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return str(source)


def _output_texts(outputs: Iterable[Any]) -> Iterator[str]:
    for output in outputs if isinstance(outputs, list) else ():
        if not isinstance(output, dict):
            continue
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
