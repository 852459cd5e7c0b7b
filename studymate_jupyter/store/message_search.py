"""Full-text search over a user's own messages: the `messages_fts` index migration 7 keeps on
SQLite, the `messages.search` tsvector of schema revision 8 on PostgreSQL."""

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


# PostgreSQL (schema revision 8): messages.search is the content's tsvector. Every term must
# match, the last also as a prefix; ts_headline marks the matches as snippet() does.
_SEARCH_POSTGRESQL = text(
    f"""WITH q AS (SELECT plainto_tsquery('english', CAST(:words AS TEXT))
            && (plainto_tsquery('english', CAST(:last AS TEXT))
                || to_tsquery('english', quote_literal(CAST(:last AS TEXT)) || ':*')) AS query)
    SELECT m.chat_id, c.title, m.id, m.role, m.created_at,
        ts_headline('english', m.content, q.query,
            'StartSel=' || chr(2) || ', StopSel=' || chr(3)
            || ', MaxWords={_SNIPPET_WORDS}, MinWords={_SNIPPET_WORDS // 2}') AS snippet
    FROM q, messages m
    JOIN chats c ON c.id = m.chat_id
    WHERE m.search @@ q.query AND m.user_id = :user
        AND (CAST(:chat AS TEXT) IS NULL OR m.chat_id = :chat)
    ORDER BY m.seq DESC
    LIMIT :limit"""
)
# The quoted terms of the FTS5 expression the chat service builds (`"a" "b"*`; a quote
# inside a term is doubled).
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')


def search_messages(
    session: Session, user_id: str, match: str, chat_id: str | None, limit: int
) -> tuple[list[MessageSearchResult], bool]:
    """The user's messages matching the FTS5 expression `match`, newest first, and whether
    there are more than `limit`."""
    params: dict[str, object] = {"user": user_id, "chat": chat_id, "limit": limit + 1}
    if session.get_bind().dialect.name == "postgresql":
        terms = [term.replace('""', '"') for term in _QUOTED.findall(match)]
        if not terms:
            return [], False
        # plainto_tsquery reads the words as words; the last one's prefix goes through
        # quote_literal, so to_tsquery sees one quoted lexeme and never an operator.
        params.update(words=" ".join(terms[:-1]), last=terms[-1])
        rows = session.execute(_SEARCH_POSTGRESQL, params).all()
    else:
        rows = session.execute(_SEARCH, {**params, "match": match}).all()
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
