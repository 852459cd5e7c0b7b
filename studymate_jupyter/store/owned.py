"""Rows found by the ids a client names, owner-checked: another user's row is absent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import MessageRow


def message_in_chat(
    session: Session, user_id: str, chat_id: str, message_id: str
) -> MessageRow | None:
    """The user's message `message_id` in their chat `chat_id`, or None."""
    return session.scalars(
        select(MessageRow).where(
            MessageRow.user_id == user_id,
            MessageRow.id == message_id,
            MessageRow.chat_id == chat_id,
        )
    ).one_or_none()
