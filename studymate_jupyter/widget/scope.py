"""What a chat draws on, as the widget's "Draws on" dropdown offers it.

A dropdown value is the scope itself as JSON (``""``: the whole library), so any scope (say,
three documents chosen in the JupyterLab panel) can be shown and chosen back exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..protocol import ChatScope, Document

WHOLE_LIBRARY = ""
#: How many document names a label lists before "and N more".
NAMES_SHOWN = 2


def is_whole_library(scope: ChatScope | None) -> bool:
    return not scope or (not scope.get("folder") and scope.get("document_ids") is None)


def value_of(scope: ChatScope | None) -> str:
    if is_whole_library(scope):
        return WHOLE_LIBRARY
    assert scope is not None
    folder, ids = scope.get("folder"), scope.get("document_ids")
    return json.dumps({"folder": folder or None, "document_ids": ids})


def scope_of(value: str) -> ChatScope | None:
    if value == WHOLE_LIBRARY:
        return None
    scope: ChatScope = json.loads(value)
    return scope


def folders_of(documents: Sequence[Document]) -> list[str]:
    """Every folder holding a library document, with its parents (``a/b/c.pdf``: a, a/b)."""
    folders = {
        str(parent)
        for document in documents
        for parent in PurePosixPath(document["path"]).parents
        if str(parent) != "."
    }
    return sorted(folders)


def describe(scope: ChatScope | None, documents: Sequence[Document]) -> str:
    """``Whole library``, ``Folder: physics``, or the chosen documents' names."""
    if is_whole_library(scope):
        return "Whole library"
    assert scope is not None
    parts = []
    if scope.get("folder"):
        parts.append(f"Folder: {scope['folder']}")
    ids = scope.get("document_ids")
    if ids is not None:
        names = {d["id"]: d["filename"] for d in documents}
        shown = [names.get(i, "removed document") for i in ids]
        more = len(shown) - NAMES_SHOWN
        listed = ", ".join(shown[:NAMES_SHOWN]) + (f" and {more} more" if more > 0 else "")
        parts.append(listed or "no documents")
    return " · ".join(parts)


def scope_options(
    documents: Sequence[Document], current: ChatScope | None
) -> list[tuple[str, str]]:
    """(label, value) pairs: the whole library, each folder, each document (by path: two may
    share a filename), and ``current`` when it is none of those."""
    options = [("Whole library", WHOLE_LIBRARY)]
    options += [
        (f"Folder: {f}", value_of({"folder": f, "document_ids": None}))
        for f in folders_of(documents)
    ]
    options += [
        (d["path"], value_of({"folder": None, "document_ids": [d["id"]]})) for d in documents
    ]
    if value_of(current) not in {value for _, value in options}:
        options.append((describe(current, documents), value_of(current)))
    return options
