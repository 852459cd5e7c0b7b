"""The offline queue: user messages not yet echoed by the server, in the order they were sent.

A message leaves the queue only when the server echoes it (it is then durably stored).
Everything still here is (re)sent after each reconnect, in order; the server de-duplicates by
message id, so a message that was stored but whose echo was lost is not stored twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Outgoing:
    """One queued user message.

    ``chat_id`` is ``None`` for a message that starts a new chat; ``new_chat`` then names
    that new chat locally, so that later messages typed into it follow it once the server
    has created it (the first message's echo carries the new chat's id).
    """

    id: str
    content: str
    chat_id: str | None
    new_chat: int | None = None
    sent: bool = field(default=False, compare=False)


class Outbox:
    """Unechoed messages in sending order."""

    def __init__(self) -> None:
        self._items: list[Outgoing] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Outgoing]:
        return iter(list(self._items))

    def __contains__(self, message_id: object) -> bool:
        return any(item.id == message_id for item in self._items)

    def push(self, item: Outgoing) -> None:
        if item.chat_id is None and item.new_chat is None:
            raise ValueError("a message without chat_id must name its new chat")
        if item.id in self:
            raise ValueError(f"message {item.id} is already queued")
        self._items.append(item)

    def ack(self, message_id: str) -> Outgoing | None:
        """The server stored ``message_id``: drop it from the queue and return it."""
        for pos, item in enumerate(self._items):
            if item.id == message_id:
                return self._items.pop(pos)
        return None

    def resolve_new_chat(self, new_chat: int, chat_id: str) -> None:
        """The server created local new chat ``new_chat`` as ``chat_id``."""
        for item in self._items:
            if item.chat_id is None and item.new_chat == new_chat:
                item.chat_id = chat_id

    def connection_lost(self) -> None:
        """Nothing sent on the lost connection is known to have arrived: send it all again."""
        for item in self._items:
            item.sent = False

    def take_sendable(self) -> list[Outgoing]:
        """Mark and return the messages that may be sent now, in order.

        Stops at a message whose new chat does not exist yet while the message creating it
        is in flight: sent before that chat exists, it would create a second chat. Stopping
        there (rather than skipping it) keeps the overall sending order.
        """
        ready: list[Outgoing] = []
        creating: set[int] = set()
        for item in self._items:
            if item.chat_id is None:
                assert item.new_chat is not None
                if item.new_chat in creating:
                    break
                creating.add(item.new_chat)
                if item.sent:
                    # The opener is in flight; whatever follows waits for its echo.
                    break
            if not item.sent:
                item.sent = True
                ready.append(item)
        return ready
