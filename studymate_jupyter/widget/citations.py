"""Citations in the widget: chip labels, the passage preview, and opening the cited file."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal, TypedDict
from urllib.parse import quote, urlsplit

from ..client.formatting import cited_place, cited_section, format_citation
from .render import escape, render_text

if TYPE_CHECKING:
    from ..protocol import Citation, Passage

log = logging.getLogger("studymate_jupyter.widget")

#: The comm target StudyMate's JupyterLab extension registers in notebook kernels.
COMM_TARGET = "studymate"

_SOURCE_NOTES = {
    "changed": "The document has changed since this answer; this is the passage as it was cited.",
    "removed": "The document has left the library; this is the passage as it was cited.",
}


class OpenCitation(TypedDict):
    """The comm message asking JupyterLab to open a cited document at its page."""

    action: Literal["open_citation"]
    path: str
    page: int
    anchor: str | None


def chip_label(number: int, citation: Citation) -> str:
    """``[n] file p.X–Y``, or ``[n] file § Section`` for a Markdown section or notebook cell."""
    return format_citation(number, citation)


def chip_tooltip(citation: Citation) -> str:
    return f"relevance {citation['score']:.3f}: show the passage"


def file_url(base_url: str, citation: Citation | Passage) -> str | None:
    """``{base_url}files/{path}#page=N`` for a PDF (``#anchor`` for a section), as an
    absolute path on the server, so it also works behind a proxy (JupyterHub); ``None``
    when the citation carries no path."""
    path = citation.get("path")
    if not path:
        return None
    prefix = urlsplit(base_url).path or "/"
    url = f"{prefix}files/{quote(path)}"
    if path.lower().endswith(".pdf"):
        return f"{url}#page={citation['page_start']}"
    anchor = citation.get("anchor")
    return f"{url}#{quote(anchor)}" if anchor else url


def comm_message(citation: Citation) -> OpenCitation:
    return {
        "action": "open_citation",
        "path": citation.get("path") or citation["filename"],
        "page": citation["page_start"],
        "anchor": citation.get("anchor"),
    }


def open_in_lab(citation: Citation) -> bool:
    """Ask StudyMate's JupyterLab extension to open the cited document at its page.

    Opens (and closes) a comm to its ``studymate`` target; where the extension is not
    installed the front end refuses the comm and nothing happens. False outside a kernel.
    """
    try:
        from ipykernel.comm import Comm
        from ipykernel.kernelbase import Kernel
    except ImportError:
        return False
    if not Kernel.initialized():
        return False
    try:
        # ipykernel is untyped.
        comm = Comm(target_name=COMM_TARGET, data=dict(comm_message(citation)))  # type: ignore[no-untyped-call,unused-ignore]
        comm.close()
    except Exception as exc:  # a front end without comms: the preview is enough
        log.debug("cannot open the studymate comm: %s", exc)
        return False
    return True


def preview_title(number: int, citation: Citation, passage: Passage | None) -> str:
    """The chip's label, then the passage's section title as its heading (unless the label
    already names the passage by it)."""
    section = passage.get("section") if passage else None
    label = escape(chip_label(number, citation))
    if not section or section == cited_section(citation):
        return f"<b>{label}</b>"
    return f"<b>{label}</b> — {escape(section)}"


def preview_body(passage: Passage) -> str:
    note = _SOURCE_NOTES.get(passage.get("source", "current"))
    body = render_text(passage["text"])
    return f"<p><i>{escape(note)}</i></p>{body}" if note else body


def preview_link(base_url: str | None, passage: Passage) -> str:
    """A link opening the file at the page in a new tab, or where it is when there is no
    server to serve it (in-process mode)."""
    place = cited_place(passage)
    url = file_url(base_url, passage) if base_url else None
    if url is None:
        return f"<small>{escape(passage['path'])}, {escape(place)}</small>"
    return (
        f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">'
        f"Open {escape(passage['filename'])} at {escape(place)}</a>"
    )
