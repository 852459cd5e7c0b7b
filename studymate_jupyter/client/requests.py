"""Frames the server answers with one frame: ``auth`` → ``auth_ok``, ``load_messages`` →
``messages``, and (extension) ``react`` → ``reaction``, ``feedback`` → ``feedback``,
``read`` → ``chat_updated``. They carry no id: the server answers a connection's frames in
order, and an answer names the chat (and the message) it is about."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

from ..protocol import (
    AuthFrame,
    AuthOkData,
    ChatEventData,
    ClientFrame,
    FeedbackEventData,
    FeedbackFrame,
    LoadMessagesFrame,
    MessagesData,
    ReactFrame,
    ReactionData,
    ReadFrame,
)
from .errors import StudyMateError

Kind = Literal["auth", "load_messages", "react", "feedback", "read"]
Asked = AuthFrame | LoadMessagesFrame | ReactFrame | FeedbackFrame | ReadFrame
Answer = AuthOkData | MessagesData | ReactionData | FeedbackEventData | ChatEventData


@dataclass
class _Request:
    kind: Kind
    chat_id: str | None
    message_id: str | None
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

    @overload
    async def ask(self, frame: ReactFrame, timeout: float) -> ReactionData: ...

    @overload
    async def ask(self, frame: FeedbackFrame, timeout: float) -> FeedbackEventData: ...

    @overload
    async def ask(self, frame: ReadFrame, timeout: float) -> ChatEventData: ...

    async def ask(self, frame: Asked, timeout: float) -> Answer:
        """Send ``frame`` and wait for its answer (StudyMateError if it is refused)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        message_id = getattr(frame.data, "message_id", None)
        request = _Request(frame.type, frame.data.chat_id, message_id, future)
        self._pending.append(request)
        if not self._write(frame):
            self._pending.remove(request)
            raise StudyMateError("unavailable", "not connected")
        try:
            answer: Answer = await asyncio.wait_for(future, timeout)
            return answer
        finally:
            if request in self._pending:
                self._pending.remove(request)

    def answer(
        self, kind: Kind, chat_id: str | None, data: Answer, message_id: str | None = None
    ) -> None:
        """The oldest request of ``kind`` (for ``chat_id`` and ``message_id``, where given)
        is answered by ``data``."""
        for request in self._pending:
            if (
                request.kind == kind
                and (chat_id is None or request.chat_id == chat_id)
                and (message_id is None or request.message_id == message_id)
            ):
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
