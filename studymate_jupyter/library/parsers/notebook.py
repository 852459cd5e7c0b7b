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
    trail: list[tuple[int, str]] = []  # (level, title) of the headings in force
    cells = list(notebook.get("cells", []))
    for index, cell in enumerate(cells):
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
                    heading=path_text(trail),
                )
            )
    return finish("notebook", len(cells), units)


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
