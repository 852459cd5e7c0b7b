"""The client's copy of one chat: messages upserted by id, in the server's order."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence

from ..protocol import Message


class MessageStore:
    """Messages of one chat, oldest first; an upsert of a known id merges fields in place
    (as the seed's client does), a new id is appended."""

    def __init__(self, messages: Iterable[Message] = ()) -> None:
        self._order: list[str] = []
        self._by_id: dict[str, Message] = {}
        for message in messages:
            self.upsert(message)

    def __len__(self) -> int:
        return len(self._order)

    def __iter__(self) -> Iterator[Message]:
        return (self._by_id[i] for i in self._order)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._by_id

    def get(self, message_id: str) -> Message | None:
        return self._by_id.get(message_id)

    @property
    def messages(self) -> list[Message]:
        """A snapshot, oldest first."""
        return list(self)

    @property
    def oldest_id(self) -> str | None:
        return self._order[0] if self._order else None

    def upsert(self, message: Message) -> tuple[Message, bool]:
        """Merge ``message`` into the one with its id, or append it; return it and whether
        it was new."""
        known = self._by_id.get(message["id"])
        if known is None:
            stored: Message = {**message}
            self._by_id[message["id"]] = stored
            self._order.append(message["id"])
            return stored, True
        known.update(message)
        return known, False

    def prepend(self, older: Sequence[Message]) -> None:
        """Put a page of older history (oldest first) before what is here."""
        fresh = [m for m in older if m["id"] not in self._by_id]
        for message in older:
            if message["id"] in self._by_id:
                self._by_id[message["id"]].update(message)
        for message in fresh:
            self._by_id[message["id"]] = {**message}
        self._order[:0] = [m["id"] for m in fresh]

    def merge_window(self, window: Sequence[Message], *, complete: bool) -> None:
        """Merge the server's newest messages (oldest first) after a reconnect.

        The window is the server's truth for its span: messages here before the first one it
        shares with the window are kept in front of it; messages after that point which the
        window lacks arrived live after it was read and stay at the end. ``complete`` says
        the window holds the whole chat, so anything before it that it lacks is gone.
        """
        window_ids = {m["id"] for m in window}
        first_shared = next((pos for pos, mid in enumerate(self._order) if mid in window_ids), None)
        if first_shared is None:
            before: list[str] = [] if complete or window else list(self._order)
            after: list[str] = []
        else:
            before = [] if complete else self._order[:first_shared]
            after = [mid for mid in self._order[first_shared:] if mid not in window_ids]
        old = self._by_id
        self._by_id = {mid: old[mid] for mid in before + after}
        for message in window:
            merged: Message = (
                {**old[message["id"]], **message} if message["id"] in old else {**message}
            )
            self._by_id[message["id"]] = merged
        self._order = before + [m["id"] for m in window] + after


def pair_replies(messages: Iterable[Message]) -> dict[str, str]:
    """Map each user message id to the id of the assistant message that answers it.

    The server answers the messages of a chat in order, one reply at a time, so the n-th
    reply after a point answers the n-th question after it. An explicit ``reply_to`` field
    on an assistant message, where a server sends one, wins over that order.
    """
    waiting: deque[str] = deque()
    pairs: dict[str, str] = {}
    for message in messages:
        if message["role"] == "user":
            if message["id"] not in pairs:
                waiting.append(message["id"])
            continue
        reply_to = message.get("reply_to")
        if isinstance(reply_to, str):
            pairs[reply_to] = message["id"]
            if reply_to in waiting:
                waiting.remove(reply_to)
        elif waiting:
            pairs[waiting.popleft()] = message["id"]
    return pairs
