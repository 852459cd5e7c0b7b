"""Full-text search over a user's own messages (the `messages_fts` index migration 7 keeps)."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..protocol import MessageSearchResult

# FTS5 marks each match between these; they cannot occur in stored text that a user typed
# and still be shown, and are removed with the marks recorded as ranges.
_OPEN, _CLOSE = "\x02", "\x03"
_SNIPPET_WORDS = 16
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")

_SEARCH = text(
    f"""SELECT m.chat_id, c.title, m.id, m.role, m.created_at,
        snippet(messages_fts, 0, '{_OPEN}', '{_CLOSE}', '…', {_SNIPPET_WORDS}) AS snippet
    FROM messages_fts
    JOIN messages m ON m.seq = messages_fts.rowid
    JOIN chats c ON c.id = m.chat_id
    WHERE messages_fts MATCH :match AND m.user_id = :user
        AND (:chat IS NULL OR m.chat_id = :chat)
    ORDER BY m.seq DESC
    LIMIT :limit"""
)


def search_messages(
    session: Session, user_id: str, match: str, chat_id: str | None, limit: int
) -> tuple[list[MessageSearchResult], bool]:
    """The user's messages matching the FTS5 expression `match`, newest first, and whether
    there are more than `limit`."""
    rows = session.execute(
        _SEARCH, {"match": match, "user": user_id, "chat": chat_id, "limit": limit + 1}
    ).all()
    results: list[MessageSearchResult] = []
    for chat, title, message_id, role, created_at, snippet in rows[:limit]:
        plain, marks = _marked(snippet)
        results.append(
            {
                "chat_id": chat,
                "chat_title": title,
                "message_id": message_id,
                "role": role,
                "snippet": plain,
                "marks": marks,
                "timestamp": created_at,
            }
        )
    return results, len(rows) > limit


def _marked(snippet: str) -> tuple[str, list[tuple[int, int]]]:
    """The snippet as plain text (tags stripped, whitespace collapsed) and where its matches
    are, as [start, end) ranges."""
    out = ""
    marks: list[tuple[int, int]] = []
    # Segments alternate: outside a match, inside one, outside, ...
    for n, segment in enumerate(re.split(f"[{_OPEN}{_CLOSE}]", snippet)):
        piece = _SPACE.sub(" ", _TAG.sub("", segment))
        if out.endswith(" ") and piece.startswith(" "):
            piece = piece[1:]
        if n % 2 == 1 and piece:
            marks.append((len(out), len(out) + len(piece)))
        out += piece
    lead = len(out) - len(out.lstrip())
    return out.strip(), [(start - lead, end - lead) for start, end in marks]
