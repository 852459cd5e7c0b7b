"""One client's conversation with the server, whatever carries its frames.

The WebSocket handler and the in-process transport both feed raw frames to a ChatConnection; it
parses them at the edge, checks identity and limits, and calls the chat service.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from ..protocol import (
    AuthFrame,
    ClientFrame,
    FeedbackFrame,
    LoadMessagesFrame,
    MessageFrame,
    ProtocolError,
    ReactFrame,
    ReadFrame,
    StopFrame,
    StreamMode,
    TypingFrame,
    UnsubscribeFrame,
    auth_ok_frame,
    error_frame,
    messages_frame,
    parse_frame,
)
from .ratelimit import TokenBucket

if TYPE_CHECKING:
    from .hub import Send
    from .service import ChatService

log = logging.getLogger("studymate.connection")


class ChatConnection:
    """A connected client: the hub's Peer, handling its frames one after another."""

    def __init__(
        self,
        chats: ChatService,
        user_id: str,
        send: Send,
        *,
        max_content_bytes: int,
        rate: float,
        burst: float,
    ) -> None:
        self.chats = chats
        self.user_id = user_id
        self.send = send
        self.stream_mode: StreamMode = "full"
        self.max_content_bytes = max_content_bytes
        self.bucket = TokenBucket(rate, burst)

    def open(self) -> None:
        self.chats.hub.add(self)

    def close(self) -> None:
        self.chats.hub.remove(self)

    def handle(self, raw: str | bytes) -> Coroutine[Any, Any, None] | None:
        """Handle one raw frame; every failure becomes an `error` frame to this client.

        A frame that needs nothing but memory (typing in a chat this connection follows, a
        refused frame) is handled at once and None returned; otherwise the coroutine that
        handles it, which the caller awaits before the next frame. Typing is most of what a
        client sends, and a coroutine costs it a turn of the event loop before it starts."""
        if not self.bucket.allow():
            self.send(error_frame("rate_limited", "too many frames; slow down"))
            return None
        ref: str | None = None
        try:
            frame = parse_frame(raw)
            if isinstance(frame, MessageFrame):
                ref = frame.data.message.id
            self._check_user(frame)
        except ProtocolError as exc:
            self.send(error_frame(exc.code, exc.message, exc.ref or ref))
            return None
        if isinstance(frame, TypingFrame):
            chat_id = frame.data.chat_id
            if chat_id is None:
                return None
            if self.chats.hub.is_subscribed(self, chat_id):
                self.chats.broadcast_typing(self.user_id, self, chat_id, frame.data.is_typing)
                return None
        return self._handle(frame, ref)

    async def _handle(self, frame: ClientFrame, ref: str | None) -> None:
        try:
            await self._dispatch(frame)
        except ProtocolError as exc:
            self.send(error_frame(exc.code, exc.message, exc.ref or ref))
        except Exception as exc:
            # Never a traceback on the wire or in the log: the class says enough to start.
            log.error("StudyMate frame failed: %s", type(exc).__name__)
            self.send(error_frame("unavailable", "the server could not handle that frame", ref))

    def _check_user(self, frame: ClientFrame) -> None:
        claimed = frame.data.user_id
        if claimed is not None and claimed != self.user_id:
            raise ProtocolError("forbidden", "user_id does not match this connection's user")

    async def _dispatch(self, frame: ClientFrame) -> None:
        user_id = self.user_id
        if isinstance(frame, AuthFrame):
            self.stream_mode = frame.data.stream
            chat_id = frame.data.chat_id
            if chat_id is not None:
                await self.chats.get_chat(user_id, chat_id)  # not_found for anyone else's
            self.send(auth_ok_frame(user_id, chat_id))
            if chat_id is not None:
                # After auth_ok, so a reply in progress is caught up on a confirmed connection.
                self.chats.subscribe(self, chat_id)
        elif isinstance(frame, MessageFrame):
            message = frame.data.message
            if len(message.content.encode()) > self.max_content_bytes:
                raise ProtocolError("too_large", "message content is over the size limit")
            if not message.content.strip():
                raise ProtocolError("bad_request", "message content is empty")
            await self.chats.send(user_id, frame.data.chat_id, message.id, message.content, self)
        elif isinstance(frame, TypingFrame):
            assert frame.data.chat_id is not None  # handle() answered a typing frame without one
            await self.chats.typing(user_id, self, frame.data.chat_id, frame.data.is_typing)
        elif isinstance(frame, LoadMessagesFrame):
            data_in = frame.data
            page = await self.chats.load(user_id, data_in.chat_id, data_in.before, data_in.limit)
            self.send(messages_frame(data_in.chat_id, page.messages, page.has_more))
            # After the page, so a reply in progress is caught up on top of it.
            self.chats.subscribe(self, data_in.chat_id)
        elif isinstance(frame, StopFrame):
            await self.chats.stop(user_id, frame.data.chat_id)
        elif isinstance(frame, UnsubscribeFrame):
            self.chats.hub.unsubscribe(self, frame.data.chat_id)
        elif isinstance(frame, ReactFrame):
            react = frame.data
            await self.chats.react(user_id, react.chat_id, react.message_id, react.emoji, react.on)
        elif isinstance(frame, FeedbackFrame):
            rate = frame.data
            await self.chats.feedback(
                user_id, rate.chat_id, rate.message_id, rate.rating, rate.note
            )
        elif isinstance(frame, ReadFrame):
            await self.chats.read(user_id, frame.data.chat_id, frame.data.message_id)
