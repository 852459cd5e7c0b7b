"""The messages the client holds of each chat, and paging them in from the server."""

from __future__ import annotations

from ..protocol import LoadMessagesFrame, Message, MessagesPage
from .pairing import Pairing
from .requests import Requests
from .signals import Signal
from .store import MessageStore


class History:
    """A MessageStore per chat, filled by ``load_messages`` pages and by live frames.

    Every page merged is announced on ``on_history`` and passed to the pairing, since a
    reply may have moved on (or ended) in it.
    """

    def __init__(self, requests: Requests, pairing: Pairing, on_history: Signal[str]) -> None:
        self._requests = requests
        self._pairing = pairing
        self._on_history = on_history
        self._stores: dict[str, MessageStore] = {}

    def get(self, chat_id: str | None) -> MessageStore | None:
        return self._stores.get(chat_id) if chat_id else None

    def store(self, chat_id: str) -> MessageStore:
        """The store of ``chat_id``, made empty if there is none yet."""
        return self._stores.setdefault(chat_id, MessageStore())

    def forget(self, chat_id: str) -> None:
        self._stores.pop(chat_id, None)

    async def load(
        self, chat_id: str, before: str | None, limit: int | None, timeout: float
    ) -> MessagesPage:
        """One page merged into the store: the newest, or the one before ``before``."""
        page = await self._fetch(chat_id, before, limit, timeout)
        store = self.store(chat_id)
        if before is None:
            store.merge_window(page["messages"], complete=not page["has_more"])
        else:
            store.prepend(page["messages"])
        self._merged(chat_id, store)
        return page

    async def resync(self, chat_id: str, page_size: int, max_pages: int, timeout: float) -> None:
        """Reload the newest history, paging back until it meets what is already held."""
        self._pairing.syncing.add(chat_id)
        try:
            store = self.store(chat_id)
            known = {m["id"] for m in store}
            window: list[Message] = []
            before: str | None = None
            complete = False
            for _ in range(max_pages):
                page = await self._fetch(chat_id, before, page_size, timeout)
                window = page["messages"] + window
                complete = not page["has_more"]
                if complete or not known or any(m["id"] in known for m in page["messages"]):
                    break
                if not page["messages"]:
                    break
                before = page["messages"][0]["id"]
            store.merge_window(window, complete=complete)
        finally:
            self._pairing.syncing.discard(chat_id)
        self._merged(chat_id, store)

    def _merged(self, chat_id: str, store: MessageStore) -> None:
        self._on_history.emit(chat_id)
        self._pairing.match(chat_id, store, resynced=True)

    async def _fetch(
        self, chat_id: str, before: str | None, limit: int | None, timeout: float
    ) -> MessagesPage:
        frame = LoadMessagesFrame.of(chat_id, before, limit)
        data = await self._requests.ask(frame, timeout)
        return {"messages": data["messages"], "has_more": data["has_more"]}
