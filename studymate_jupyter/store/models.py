"""Typed SQLAlchemy models. The DDL that creates them lives in `migrations.py`."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ChatRow(Base):
    __tablename__ = "chats"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str]
    created_at: Mapped[str]
    updated_at: Mapped[str]
    # Kept by the repository on every insert and delete: listing chats must not count rows.
    message_count: Mapped[int] = mapped_column(default=0)
    # JSON: which part of the library the chat draws on (null: all of it).
    scope: Mapped[str | None] = mapped_column(default=None)
    # Replies finished after the newest message the owner read (read_seq, read_up_to).
    unread: Mapped[int] = mapped_column(default=0)
    read_seq: Mapped[int] = mapped_column(default=0)
    read_up_to: Mapped[str | None] = mapped_column(String(128), default=None)


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # Message ids are chosen by clients, so they are unique per user, not globally.
        UniqueConstraint("user_id", "id", name="uq_messages_user_id"),
        Index("ix_messages_chat_seq", "chat_id", "seq"),
    )

    # seq orders a chat's history and makes paging by `before` an index range scan.
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(255))
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str]
    status: Mapped[str] = mapped_column(String(16))
    # JSON list of CitationResponse objects, each with the passage it quoted, so a citation
    # still shows its source after the document changes or goes away.
    citations: Mapped[str] = mapped_column(default="[]")
    created_at: Mapped[str]
    # For an assistant message: the id of the user message it answers.
    reply_to: Mapped[str | None] = mapped_column(String(128), default=None)


class ReactionRow(Base):
    __tablename__ = "reactions"

    message_seq: Mapped[int] = mapped_column(
        ForeignKey("messages.seq", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    emoji: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[str]


class FeedbackRow(Base):
    __tablename__ = "feedback"

    message_seq: Mapped[int] = mapped_column(
        ForeignKey("messages.seq", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    rating: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(default=None)
    updated_at: Mapped[str]


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255))
    # Relative to the server's root_dir, with forward slashes.
    path: Mapped[str]
    filename: Mapped[str]
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(default=None)
    progress: Mapped[float] = mapped_column(default=0.0)
    pages: Mapped[int] = mapped_column(default=0)
    chunks: Mapped[int] = mapped_column(default=0)
    size: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(default="")
    created_at: Mapped[str]
    updated_at: Mapped[str]
    # Set when the user removes it: the row stays so old citations can still be explained.
    removed_at: Mapped[str | None] = mapped_column(default=None)
    # The vector step after indexing (protocol VectorStatus) and its progress, 0..1.
    vectors: Mapped[str] = mapped_column(String(16), default="pending")
    vectors_progress: Mapped[float] = mapped_column(default=0.0)


class ChunkRow(Base):
    __tablename__ = "chunks"

    rowid: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    user_id: Mapped[str] = mapped_column(String(255))
    # The document's content hash when this chunk was cut: a citation of an older hash
    # points at a source that has changed since.
    sha256: Mapped[str]
    seq: Mapped[int]
    page_start: Mapped[int]
    page_end: Mapped[int]
    char_start: Mapped[int]
    char_end: Mapped[int]
    anchor: Mapped[str | None] = mapped_column(default=None)
    heading: Mapped[str] = mapped_column(default="")
    text: Mapped[str]
    retired: Mapped[bool] = mapped_column(default=False)
