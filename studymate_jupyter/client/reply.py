"""A handle on one sent message: its echo, the streamed reply, the final reply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Generator
from typing import Any

from ..protocol import Message
from .types import FINAL_STATUSES


class Reply:
    """What ``StudyMateClient.post`` returns. Await it for the final assistant Message.

    ``echoed`` resolves with the stored user message once the server has saved it;
    ``updates()`` yields the reply each time it grows, ending with its final state.
    """

    def __init__(self, message_id: str, content: str) -> None:
        loop = asyncio.get_running_loop()
        self.message_id = message_id
        self.content = content
        self.chat_id: str | None = None
        self.reply_id: str | None = None
        self.echoed: asyncio.Future[Message] = loop.create_future()
        self.done: asyncio.Future[Message] = loop.create_future()
        self._updates: asyncio.Queue[Message | BaseException] = asyncio.Queue()

    def __await__(self) -> Generator[Any, None, Message]:
        return self.done.__await__()

    def __repr__(self) -> str:
        state = "done" if self.done.done() else "echoed" if self.echoed.done() else "queued"
        return f"<Reply to {self.message_id} {state}>"

    async def updates(self) -> AsyncIterator[Message]:
        """Each state of the reply as it streams, the last one final; raises if it fails."""
        while True:
            item = await self._updates.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if item.get("status") in FINAL_STATUSES:
                return

    # --- called by the client ---------------------------------------------------------

    def _echo(self, message: Message) -> None:
        self.chat_id = message.get("chat_id", self.chat_id)
        if not self.echoed.done():
            self.echoed.set_result(message.copy())

    def _update(self, message: Message) -> bool:
        """Record a new state of the reply; return True once it is final."""
        if self.done.done():
            return True
        self.reply_id = message["id"]
        snapshot = message.copy()
        self._updates.put_nowait(snapshot)
        if message.get("status") in FINAL_STATUSES:
            self.done.set_result(snapshot)
            return True
        return False

    def _fail(self, error: BaseException) -> None:
        for future in (self.echoed, self.done):
            if not future.done():
                future.set_exception(error)
                # Nobody may be awaiting the echo: don't warn about an unretrieved exception.
                future.exception()
        self._updates.put_nowait(error)
