"""`{base_url}ws/chat`: the StudyMate protocol over an authenticated WebSocket."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..protocol import (
    AuthFrame,
    ClientFrame,
    LoadMessagesFrame,
    MessageFrame,
    ProtocolError,
    StopFrame,
    StreamMode,
    TypingFrame,
    UnsubscribeFrame,
    encode,
    error_frame,
    parse_frame,
)
from .base import AUTH_RESOURCE, Services
from .ratelimit import TokenBucket


class ChatSocket(ExtensionHandlerMixin, WebSocketMixin, WebSocketHandler, JupyterHandler):
    """One client connection. Frames are handled one after another, in arrival order."""

    auth_resource = AUTH_RESOURCE
    stream_mode: StreamMode = "full"

    def initialize(self, name: str, services: Services, **kwargs: Any) -> None:
        super().initialize(name, **kwargs)
        self.services = services
        self.chats = services.chats
        limits = services.limits
        self.bucket = TokenBucket(limits.rate, limits.burst)
        self.user_id = ""

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Refuse before the upgrade: no frame is ever exchanged with an unauthorized client.
        user = self.current_user
        if not await ensure_async(
            self.authorizer.is_authorized(self, user, "execute", AUTH_RESOURCE)
        ):
            raise web.HTTPError(403)
        self.user_id = self.services.identity.user_id(self.current_user)
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.chats.hub.add(self)

    def on_close(self) -> None:
        self.chats.hub.remove(self)

    def send(self, frame: str) -> None:
        # A closed socket is forgotten by the hub in on_close.
        with suppress(WebSocketClosedError):
            self.write_message(frame)

    async def on_message(self, raw: str | bytes) -> None:
        if not self.bucket.allow():
            self.send(error_frame("rate_limited", "too many frames; slow down"))
            return
        ref: str | None = None
        try:
            frame = parse_frame(raw)
            if isinstance(frame, MessageFrame):
                ref = frame.data.message.id
            self._check_user(frame)
            await self._dispatch(frame)
        except ProtocolError as exc:
            self.send(error_frame(exc.code, exc.message, exc.ref or ref))
        except Exception as exc:
            # Never a traceback on the wire or in the log: the class says enough to start.
            self.log.error("StudyMate frame failed: %s", type(exc).__name__)
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
            data: dict[str, Any] = {"user_id": user_id}
            if chat_id is not None:
                await self.chats.get_chat(user_id, chat_id)  # not_found for anyone else's
                data["chat_id"] = chat_id
            self.send(encode("auth_ok", data))
            if chat_id is not None:
                # After auth_ok, so a reply in progress is caught up on a confirmed connection.
                self.chats.subscribe(self, chat_id)
        elif isinstance(frame, MessageFrame):
            message = frame.data.message
            if len(message.content.encode()) > self.services.limits.max_content_bytes:
                raise ProtocolError("too_large", "message content is over the size limit")
            if not message.content.strip():
                raise ProtocolError("bad_request", "message content is empty")
            await self.chats.send(user_id, frame.data.chat_id, message.id, message.content, self)
        elif isinstance(frame, TypingFrame):
            if frame.data.chat_id is not None:
                await self.chats.typing(user_id, self, frame.data.chat_id, frame.data.is_typing)
        elif isinstance(frame, LoadMessagesFrame):
            data_in = frame.data
            page = await self.chats.load(user_id, data_in.chat_id, data_in.before, data_in.limit)
            self.send(
                encode(
                    "messages",
                    {
                        "chat_id": data_in.chat_id,
                        "messages": page.messages,
                        "has_more": page.has_more,
                    },
                )
            )
            # After the page, so a reply in progress is caught up on top of it.
            self.chats.subscribe(self, data_in.chat_id)
        elif isinstance(frame, StopFrame):
            await self.chats.stop(user_id, frame.data.chat_id)
        elif isinstance(frame, UnsubscribeFrame):
            self.chats.hub.unsubscribe(self, frame.data.chat_id)
