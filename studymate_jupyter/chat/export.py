"""A chat as a Markdown document or a notebook, with its citations."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import nbformat
from nbformat.v4 import new_markdown_cell, new_notebook

from ..protocol import Chat, Citation, Message

Exporter = Callable[[Chat, list[Message]], tuple[str, str, str]]


class Exported(NamedTuple):
    """An exported chat: the text, its media type and its file name suffix."""

    chat: Chat
    body: str
    media_type: str
    suffix: str


def cite(n: int, citation: Citation) -> str:
    """`[n] file p.X–Y` (p.X when the passage is on one page), or `[n] file § Section` for a
    citation with an anchor and a section (Markdown, notebooks), as every client shows it."""
    section = citation.get("section")
    if citation.get("anchor") and section:
        return f"[{n}] {citation['filename']} § {section}"
    start, end = citation["page_start"], citation["page_end"]
    pages = f"p.{start}" if end <= start else f"p.{start}–{end}"
    return f"[{n}] {citation['filename']} {pages}"


def _message_markdown(message: Message) -> str:
    speaker = "You" if message["role"] == "user" else "StudyMate"
    lines = [f"**{speaker}** · {message['timestamp']}", "", message["content"] or "_(empty)_"]
    if message["status"] in ("stopped", "error"):
        lines += ["", f"_(reply {message['status']})_"]
    if message["citations"]:
        lines += ["", "Sources:", ""]
        lines += [f"- {cite(n, c)}" for n, c in enumerate(message["citations"], start=1)]
    reactions = message.get("reactions") or {}
    if reactions:
        lines += ["", "Reactions: " + " ".join(f"{e} {len(who)}" for e, who in reactions.items())]
    feedback = message.get("feedback")
    if feedback:
        rated = "👍 helpful" if feedback["rating"] == "up" else "👎 not helpful"
        note = f": {feedback['note']}" if feedback["note"] else ""
        lines += ["", f"Your feedback: {rated}{note}"]
    return "\n".join(lines)


def to_markdown(chat: Chat, messages: list[Message]) -> tuple[str, str, str]:
    parts = [f"# {chat['title']}", ""]
    for message in messages:
        parts += [_message_markdown(message), "", "---", ""]
    return "\n".join(parts), "text/markdown; charset=UTF-8", ".md"


def to_notebook(chat: Chat, messages: list[Message]) -> tuple[str, str, str]:
    notebook = new_notebook()
    notebook.metadata["studymate"] = {"chat_id": chat["id"], "title": chat["title"]}
    notebook.cells = [new_markdown_cell(f"# {chat['title']}")]
    for message in messages:
        cell = new_markdown_cell(_message_markdown(message))
        cell.metadata["studymate"] = {
            "message_id": message["id"],
            "role": message["role"],
            "citations": message["citations"],
            "reactions": message.get("reactions") or {},
            "feedback": message.get("feedback"),
        }
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return nbformat.writes(notebook), "application/x-ipynb+json", ".ipynb"


EXPORTERS: dict[str, Exporter] = {"markdown": to_markdown, "ipynb": to_notebook}
