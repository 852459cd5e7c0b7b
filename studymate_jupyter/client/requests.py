"""Frames the server answers with one frame: ``auth`` → ``auth_ok``, ``load_messages`` →
``messages``. They carry no id: the server answers a connection's frames in order."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

from ..protocol import AuthFrame, AuthOkData, ClientFrame, LoadMessagesFrame, MessagesData
from .errors import StudyMateError

Kind = Literal["auth", "load_messages"]


@dataclass
class _Request:
    kind: Kind
    chat_id: str | None
    future: asyncio.Future[Any]


class Requests:
    """The requests sent on this connection and not answered yet, oldest first."""

    def __init__(self, write: Callable[[ClientFrame], bool]) -> None:
        """``write`` sends a frame now, or returns False when there is no connection."""
        self._write = write
        self._pending: deque[_Request] = deque()

    @overload
    async def ask(self, frame: AuthFrame, timeout: float) -> AuthOkData: ...

    @overload
    async def ask(self, frame: LoadMessagesFrame, timeout: float) -> MessagesData: ...

    async def ask(
        self, frame: AuthFrame | LoadMessagesFrame, timeout: float
    ) -> AuthOkData | MessagesData:
        """Send ``frame`` and wait for its answer (StudyMateError if it is refused)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        request = _Request(frame.type, frame.data.chat_id, future)
        self._pending.append(request)
        if not self._write(frame):
            self._pending.remove(request)
            raise StudyMateError("unavailable", "not connected")
        try:
            answer: AuthOkData | MessagesData = await asyncio.wait_for(future, timeout)
            return answer
        finally:
            if request in self._pending:
                self._pending.remove(request)

    def answer(self, kind: Kind, chat_id: str | None, data: AuthOkData | MessagesData) -> None:
        """The oldest request of ``kind`` (for ``chat_id``, if given) is answered by ``data``."""
        for request in self._pending:
            if request.kind == kind and (chat_id is None or request.chat_id == chat_id):
                self._pending.remove(request)
                if not request.future.done():
                    request.future.set_result(data)
                return

    def refuse_oldest(self, error: StudyMateError) -> bool:
        """An error without a ``ref`` answers the oldest request; False if there is none."""
        if not self._pending:
            return False
        request = self._pending.popleft()
        if not request.future.done():
            request.future.set_exception(error)
        return True

    def fail_all(self, error: StudyMateError) -> None:
        while self.refuse_oldest(error):
            pass
