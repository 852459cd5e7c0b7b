"""Chats and messages repository: the only code that reads or writes those tables.

Every function takes the owner's user_id and treats another user's row as absent.
Results are plain TypedDicts, so nothing bound to a session leaves the database thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from sqlalchemy import bindparam, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ..protocol import Chat, ChatScope, Citation, Message, MessageStatus, Role, title_from
from .claims import claimable, is_shared
from .models import ChatRow, MessageRow
from .owned import message_in_chat
from .prepared import Prepared
from .reactions import annotations_of
from .stamps import new_id, now


class ChatColumns(Protocol):
    """A chats row: a mapped ChatRow, or a Core row of its columns."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    @property
    def updated_at(self) -> str: ...
    @property
    def message_count(self) -> int: ...
    @property
    def scope(self) -> str | None: ...
    @property
    def unread(self) -> int: ...
    @property
    def read_up_to(self) -> str | None: ...


def chat_dict(row: ChatColumns) -> Chat:
    return {
        "id": row.id,
        "title": row.title,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "message_count": row.message_count,
        "scope": json.loads(row.scope) if row.scope else None,
        "unread": row.unread,
        "read_up_to": row.read_up_to,
    }


def message_dict(row: MessageRow) -> Message:
    citations: list[Citation] = json.loads(row.citations)
    message: Message = {
        "id": row.id,
        "role": row.role,  # type: ignore[typeddict-item]  # CHECK-ed on write
        "content": row.content,
        "citations": citations,
        "timestamp": row.created_at,
        "chat_id": row.chat_id,
        "status": row.status,  # type: ignore[typeddict-item]
    }
    if row.reply_to is not None:
        message["reply_to"] = row.reply_to
    return message


def annotated(session: Session, user_id: str, rows: Sequence[MessageRow]) -> list[Message]:
    """Messages as read from the store: with their reactions and the reader's feedback."""
    found = annotations_of(session, user_id, [row.seq for row in rows])
    messages = []
    for row in rows:
        message = message_dict(row)
        message["reactions"] = found.reactions.get(row.seq, {})
        message["feedback"] = found.feedback.get(row.seq)
        messages.append(message)
    return messages


def _owned_chat(session: Session, user_id: str, chat_id: str) -> ChatRow | None:
    row = session.get(ChatRow, chat_id)
    return row if row is not None and row.user_id == user_id else None


# ---- chats ----------------------------------------------------------------------------------


def create_chat(session: Session, user_id: str, title: str, scope: ChatScope | None = None) -> Chat:
    stamp = now()
    row = ChatRow(
        id=new_id(),
        user_id=user_id,
        title=title,
        created_at=stamp,
        updated_at=stamp,
        message_count=0,
        scope=json.dumps(scope) if scope else None,
        unread=0,
        read_seq=0,
    )
    session.add(row)
    session.flush()
    return chat_dict(row)


def get_chat(session: Session, user_id: str, chat_id: str) -> Chat | None:
    row = _owned_chat(session, user_id, chat_id)
    return None if row is None else chat_dict(row)


def list_chats(session: Session, user_id: str) -> list[Chat]:
    rows = session.scalars(
        select(ChatRow)
        .where(ChatRow.user_id == user_id)
        .order_by(ChatRow.updated_at.desc(), ChatRow.created_at.desc())
    )
    return [chat_dict(row) for row in rows]


def update_chat(
    session: Session,
    user_id: str,
    chat_id: str,
    title: str | None = None,
    scope: ChatScope | None = None,
    clear_scope: bool = False,
) -> Chat | None:
    """Rename a chat and/or set (or clear) the part of the library it draws on."""
    row = _owned_chat(session, user_id, chat_id)
    if row is None:
        return None
    if title is not None:
        row.title = title
    if scope is not None or clear_scope:
        row.scope = json.dumps(scope) if scope else None
    row.updated_at = now()
    session.flush()
    return chat_dict(row)


def delete_chat(session: Session, user_id: str, chat_id: str) -> bool:
    row = _owned_chat(session, user_id, chat_id)
    if row is None:
        return False
    session.execute(delete(MessageRow).where(MessageRow.chat_id == chat_id))
    session.delete(row)
    session.flush()
    return True


# ---- messages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredUserMessage:
    message: Message
    chat: Chat
    created_chat: bool
    # False when the id was already stored: the stored copy is echoed and no reply starts.
    is_new: bool


# Built once: constructing a statement costs more than running it. Prepared: these run on
# every message, and SQLAlchemy's execution path cost several times SQLite's own work.
# What chat_dict reads, returned by the UPDATEs that change a chat.
_CHAT_COLUMNS = (
    ChatRow.id,
    ChatRow.title,
    ChatRow.created_at,
    ChatRow.updated_at,
    ChatRow.message_count,
    ChatRow.scope,
    ChatRow.unread,
    ChatRow.read_up_to,
)


class ChatValues(NamedTuple):
    """A row of _CHAT_COLUMNS, as a Prepared statement returns it."""

    id: str
    title: str
    created_at: str
    updated_at: str
    message_count: int
    scope: str | None
    unread: int
    read_up_to: str | None


_BUMP_CHAT = Prepared(
    update(ChatRow)
    .where(ChatRow.id == bindparam("chat"), ChatRow.user_id == bindparam("owner"))
    .values(message_count=ChatRow.message_count + 1, updated_at=bindparam("stamp"))
    .returning(*_CHAT_COLUMNS)
)
# Every column but seq, which the database numbers.
_INSERT_MESSAGE = Prepared(
    insert(MessageRow).values(
        {c.name: bindparam(c.name) for c in MessageRow.__table__.columns if c.name != "seq"}
    )
)
_FINISH_MESSAGE = Prepared(
    update(MessageRow)
    .where(MessageRow.user_id == bindparam("owner"), MessageRow.id == bindparam("message"))
    .values(
        content=bindparam("content"),
        status=bindparam("status"),
        citations=bindparam("citations"),
    )
)
_COUNT_UNREAD = Prepared(
    update(ChatRow)
    .where(
        ChatRow.id
        == select(MessageRow.chat_id)
        .where(MessageRow.user_id == bindparam("owner"), MessageRow.id == bindparam("message"))
        .scalar_subquery()
    )
    .values(unread=ChatRow.unread + 1)
    .returning(*_CHAT_COLUMNS)
)
_MESSAGE_EXISTS = Prepared(
    select(MessageRow.seq).where(
        MessageRow.user_id == bindparam("owner"), MessageRow.id == bindparam("message")
    )
)


def add_user_message(
    session: Session, user_id: str, chat_id: str | None, message_id: str, content: str
) -> StoredUserMessage | None:
    """Store a user message, creating its chat when chat_id is None.

    Returns None when chat_id names no chat of this user. Idempotent by message id.
    """
    if _MESSAGE_EXISTS.run(session, {"owner": user_id, "message": message_id}).rows:
        return _stored_already(session, user_id, message_id)
    if session.connection().dialect.name != "postgresql":
        # SQLite writes take the file's lock before the check: no other server can store the
        # same id between the check and the insert.
        return _add_new(session, user_id, chat_id, message_id, content)
    # Another server of the same user may store this id after the check: the constraint
    # refuses the second insert, and its sender gets the stored copy, as for any resend.
    try:
        with session.begin_nested():
            return _add_new(session, user_id, chat_id, message_id, content)
    except IntegrityError:
        return _stored_already(session, user_id, message_id)


def _stored_already(session: Session, user_id: str, message_id: str) -> StoredUserMessage:
    existing = session.scalars(
        select(MessageRow).where(MessageRow.user_id == user_id, MessageRow.id == message_id)
    ).one()
    owned = _owned_chat(session, user_id, existing.chat_id)
    assert owned is not None  # a message's chat has the message's owner
    return StoredUserMessage(message_dict(existing), chat_dict(owned), False, False)


def _add_new(
    session: Session, user_id: str, chat_id: str | None, message_id: str, content: str
) -> StoredUserMessage | None:
    created = chat_id is None
    if chat_id is None:
        chat_id = create_chat(session, user_id, title_from(content))["id"]
    inserted = _insert_message(session, user_id, chat_id, message_id, "user", content, "complete")
    if inserted is None:
        return None
    message, chat = inserted
    return StoredUserMessage(message, chat, created, True)


@dataclass(frozen=True)
class StartedReply:
    message: Message
    chat: Chat
    # (role, content) of the messages before the question, oldest first.
    history: list[tuple[Role, str]]


# Two columns, not rows: a reply reads its history on every question, and building ORM
# objects for 40 messages cost three times the rest of its start.
_HISTORY_BEFORE = Prepared(
    select(MessageRow.role, MessageRow.content)
    .where(
        MessageRow.chat_id == bindparam("chat"),
        MessageRow.seq
        < select(MessageRow.seq)
        .where(MessageRow.user_id == bindparam("owner"), MessageRow.id == bindparam("question"))
        .scalar_subquery(),
    )
    .order_by(MessageRow.seq.desc())
    .limit(bindparam("limit"))
)


# A reply to the question after it: the chat's index range from the question on.
_ANSWERED = Prepared(
    select(MessageRow.seq)
    .where(
        MessageRow.chat_id == bindparam("chat"),
        MessageRow.seq
        > select(MessageRow.seq)
        .where(MessageRow.user_id == bindparam("owner"), MessageRow.id == bindparam("question"))
        .scalar_subquery(),
        MessageRow.reply_to == bindparam("question"),
    )
    .limit(1)
)


def start_reply(
    session: Session,
    user_id: str,
    chat_id: str,
    question_id: str,
    history: int,
    *,
    once: bool = False,
) -> StartedReply | None:
    """Store an empty streaming reply to a question, so a crash mid-reply leaves a trace to
    mark as failed; with its chat and the last `history` messages before the question. None
    when the chat is no longer the user's (deleted while the reply waited its turn), or, with
    `once`, when the question has a reply already (another server that shares the database
    answered it: one that started resumed it while this one was about to)."""
    params = {"chat": chat_id, "owner": user_id, "question": question_id}
    if once and _ANSWERED.run(session, params).rows:
        return None
    inserted = _insert_message(
        session, user_id, chat_id, new_id(), "assistant", "", "streaming", question_id
    )
    if inserted is None:
        return None
    rows = _HISTORY_BEFORE.run(session, {**params, "limit": history}).rows
    turns: list[tuple[Role, str]] = [(role, content) for role, content in rows]
    return StartedReply(inserted[0], inserted[1], turns[::-1])


def unanswered_questions(session: Session, user_id: str | None = None) -> list[tuple[str, Message]]:
    """(user_id, message) of user messages no reply answers, oldest first: `user_id`'s only
    when given, and only in chats no live server holds.

    They were queued behind a reply when the server stopped; the next start answers them. A
    chat another server holds is one it is answering in: what is queued there is its own.
    """
    answer = aliased(MessageRow)
    query = select(MessageRow).where(
        MessageRow.role == "user",
        ~exists().where(
            answer.chat_id == MessageRow.chat_id,
            answer.reply_to == MessageRow.id,
            answer.role == "assistant",
        ),
    )
    if user_id is not None:
        query = query.where(MessageRow.user_id == user_id)
    rows = session.scalars(query.order_by(MessageRow.seq)).all()
    free = claimable(session, {row.chat_id for row in rows})
    return [(row.user_id, message_dict(row)) for row in rows if row.chat_id in free]


def finish_assistant_message(
    session: Session,
    user_id: str,
    message_id: str,
    content: str,
    status: MessageStatus,
    citations: list[Citation],
) -> Chat | None:
    """Store a reply's final state, unread until its owner reads it; its chat as it now is,
    or None when the chat was deleted meanwhile."""
    params = {"owner": user_id, "message": message_id}
    result = _FINISH_MESSAGE.run(
        session,
        {**params, "content": content, "status": status, "citations": json.dumps(citations)},
    )
    if not result.rowcount:
        return None
    chat_row = _COUNT_UNREAD.run(session, params).first()
    return None if chat_row is None else chat_dict(ChatValues._make(chat_row))


def fail_interrupted_replies(session: Session) -> int:
    """Mark replies left `streaming` by a server that died as `error`; return how many.

    Where servers share the database, a streaming reply in a chat a live server holds is one
    it is streaming now: only chats nobody holds are marked, claimed until the commit.
    """
    streaming = MessageRow.status == "streaming"
    if not is_shared(session):
        result = session.execute(update(MessageRow).where(streaming).values(status="error"))
        return int(getattr(result, "rowcount", 0))
    chats = set(session.scalars(select(MessageRow.chat_id).where(streaming).distinct()))
    orphaned = claimable(session, chats)
    if not orphaned:
        return 0
    result = session.execute(
        update(MessageRow).where(streaming, MessageRow.chat_id.in_(orphaned)).values(status="error")
    )
    return int(getattr(result, "rowcount", 0))


def _insert_message(
    session: Session,
    user_id: str,
    chat_id: str,
    message_id: str,
    role: Role,
    content: str,
    status: MessageStatus,
    reply_to: str | None = None,
) -> tuple[Message, Chat] | None:
    """Insert a message and move its chat's count and order; None if the chat is not the user's.

    Every message goes through here, so it is two prepared statements rather than an ORM unit
    of work (which cost several times more). The count is incremented in SQL, never read-
    modify-written, and the chat comes back from the UPDATE itself.
    """
    stamp = now()
    chat_row = _BUMP_CHAT.run(session, {"chat": chat_id, "owner": user_id, "stamp": stamp}).first()
    if chat_row is None:
        return None
    message: Message = {
        "id": message_id,
        "role": role,
        "content": content,
        "citations": [],
        "timestamp": stamp,
        "chat_id": chat_id,
        "status": status,
    }
    _INSERT_MESSAGE.run(
        session,
        {
            "id": message_id,
            "user_id": user_id,
            "chat_id": chat_id,
            "role": role,
            "content": content,
            "status": status,
            "citations": "[]",
            "created_at": stamp,
            "reply_to": reply_to,
        },
    )
    if reply_to is not None:
        message["reply_to"] = reply_to
    return message, chat_dict(ChatValues._make(chat_row))


@dataclass(frozen=True)
class Page:
    messages: list[Message]
    has_more: bool


def load_messages(
    session: Session,
    user_id: str,
    chat_id: str,
    before: str | None,
    limit: int,
) -> Page | None:
    """A page of history, oldest first; None when the chat (or `before`) is not this user's."""
    if _owned_chat(session, user_id, chat_id) is None:
        return None
    query = select(MessageRow).where(MessageRow.chat_id == chat_id)
    if before is not None:
        anchor = message_in_chat(session, user_id, chat_id, before)
        if anchor is None:
            return None
        query = query.where(MessageRow.seq < anchor.seq)
    rows = list(session.scalars(query.order_by(MessageRow.seq.desc()).limit(limit + 1)))
    has_more = len(rows) > limit
    return Page(annotated(session, user_id, rows[:limit][::-1]), has_more)


def messages_by_id(session: Session, user_id: str, ids: list[str]) -> dict[str, Message]:
    """The user's messages with these ids, by id (those that exist)."""
    rows = session.scalars(
        select(MessageRow).where(MessageRow.user_id == user_id, MessageRow.id.in_(ids))
    ).all()
    return {message["id"]: message for message in annotated(session, user_id, rows)}


def all_messages(session: Session, user_id: str, chat_id: str) -> list[Message] | None:
    """A whole chat, oldest first (for export)."""
    if _owned_chat(session, user_id, chat_id) is None:
        return None
    rows = session.scalars(
        select(MessageRow).where(MessageRow.chat_id == chat_id).order_by(MessageRow.seq)
    ).all()
    return annotated(session, user_id, rows)


# ---- read state -----------------------------------------------------------------------------


def mark_read(session: Session, user_id: str, chat_id: str, message_id: str) -> Chat | None:
    """The user has seen the chat up to this message (an older one than the newest read
    changes nothing); the chat with its unread count; None when the message is not there."""
    chat = _owned_chat(session, user_id, chat_id)
    message = message_in_chat(session, user_id, chat_id, message_id)
    if chat is None or message is None:
        return None
    seq = message.seq
    if seq > chat.read_seq:
        chat.read_seq, chat.read_up_to = seq, message_id
        chat.unread = int(
            session.scalar(
                select(func.count())
                .select_from(MessageRow)
                .where(
                    MessageRow.chat_id == chat_id,
                    MessageRow.seq > seq,
                    MessageRow.role == "assistant",
                    MessageRow.status != "streaming",
                )
            )
            or 0
        )
        session.flush()
    return chat_dict(chat)
