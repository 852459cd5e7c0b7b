"""Reactions and feedback repository: what users say about messages.

Both hang off a message's `seq` and are owner-checked through the message: a message that is
not the user's, or not in the chat named, is treated as absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..protocol import MAX_REACTIONS, Feedback, ProtocolError, Rating
from .models import FeedbackRow, MessageRow, ReactionRow
from .owned import message_in_chat
from .stamps import now


@dataclass(frozen=True)
class Annotations:
    """A page's reactions and the reader's feedback, by message seq."""

    reactions: dict[int, dict[str, list[str]]]
    feedback: dict[int, Feedback]


def _message(session: Session, user_id: str, chat_id: str, message_id: str) -> MessageRow:
    row = message_in_chat(session, user_id, chat_id, message_id)
    if row is None:
        raise ProtocolError("not_found", "no such message in that chat")
    return row


def set_reaction(
    session: Session, user_id: str, chat_id: str, message_id: str, emoji: str, on: bool
) -> dict[str, list[str]]:
    """Put `emoji` on the message (or take it off); the message's reactions as they now are."""
    seq = _message(session, user_id, chat_id, message_id).seq
    mine = set(
        session.scalars(
            select(ReactionRow.emoji).where(
                ReactionRow.message_seq == seq, ReactionRow.user_id == user_id
            )
        )
    )
    if on and emoji not in mine:
        if len(mine) >= MAX_REACTIONS:
            raise ProtocolError(
                "bad_request", f"at most {MAX_REACTIONS} different reactions on one message"
            )
        session.add(ReactionRow(message_seq=seq, user_id=user_id, emoji=emoji, created_at=now()))
    elif not on and emoji in mine:
        session.execute(
            delete(ReactionRow).where(
                ReactionRow.message_seq == seq,
                ReactionRow.user_id == user_id,
                ReactionRow.emoji == emoji,
            )
        )
    session.flush()
    return annotations_of(session, user_id, [seq]).reactions.get(seq, {})


def set_feedback(
    session: Session,
    user_id: str,
    chat_id: str,
    message_id: str,
    rating: Rating | None,
    note: str | None,
) -> Feedback | None:
    """Rate an assistant message (None takes the rating and its note back)."""
    message = _message(session, user_id, chat_id, message_id)
    if message.role != "assistant":
        raise ProtocolError("bad_request", "feedback is for the assistant's messages")
    row = session.get(FeedbackRow, (message.seq, user_id))
    if rating is None:
        if row is not None:
            session.delete(row)
        session.flush()
        return None
    if row is None:
        row = FeedbackRow(message_seq=message.seq, user_id=user_id, rating=rating)
        session.add(row)
    row.rating, row.note, row.updated_at = rating, note, now()
    session.flush()
    return {"rating": rating, "note": note}


def annotations_of(session: Session, reader: str, seqs: Iterable[int]) -> Annotations:
    """Every user's reactions and `reader`'s own feedback on these messages."""
    wanted = list(seqs)
    reactions: dict[int, dict[str, list[str]]] = {}
    feedback: dict[int, Feedback] = {}
    if not wanted:
        return Annotations(reactions, feedback)
    for seq, emoji, user in session.execute(
        select(ReactionRow.message_seq, ReactionRow.emoji, ReactionRow.user_id)
        .where(ReactionRow.message_seq.in_(wanted))
        .order_by(ReactionRow.created_at, ReactionRow.user_id)
    ):
        reactions.setdefault(seq, {}).setdefault(emoji, []).append(user)
    for row in session.scalars(
        select(FeedbackRow).where(
            FeedbackRow.message_seq.in_(wanted), FeedbackRow.user_id == reader
        )
    ):
        feedback[row.message_seq] = {"rating": row.rating, "note": row.note}  # type: ignore[typeddict-item]  # CHECK-ed on write
    return Annotations(reactions, feedback)
