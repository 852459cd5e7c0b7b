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

from ..chat.connection import ChatConnection
from .base import AUTH_RESOURCE, HandlerContext


class ChatSocket(ExtensionHandlerMixin, WebSocketMixin, WebSocketHandler, JupyterHandler):
    """One client connection. Frames are handled one after another, in arrival order."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str, context: HandlerContext, **kwargs: Any) -> None:
        super().initialize(name, **kwargs)
        self.context = context
        self.connection: ChatConnection | None = None

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Refuse before the upgrade: no frame is ever exchanged with an unauthorized client.
        user = self.current_user
        if not await ensure_async(
            self.authorizer.is_authorized(self, user, "execute", AUTH_RESOURCE)
        ):
            raise web.HTTPError(403)
        limits = self.context.limits
        self.connection = ChatConnection(
            self.context.chats,
            self.context.identity.user_id(user),
            self._send,
            max_content_bytes=limits.max_content_bytes,
            rate=limits.rate,
            burst=limits.burst,
        )
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        assert self.connection is not None  # made in get() before the upgrade
        # Frames are small and latency-bound: without this, Nagle's algorithm holds an echo
        # back until the client's delayed ACK (~40 ms) whenever a frame precedes it.
        self.set_nodelay(True)
        self.connection.open()

    def on_close(self) -> None:
        if self.connection is not None:
            self.connection.close()

    def _send(self, frame: str) -> None:
        # A closed socket is forgotten by the hub in on_close.
        with suppress(WebSocketClosedError):
            self.write_message(frame)

    async def on_message(self, raw: str | bytes) -> None:
        assert self.connection is not None
        await self.connection.handle(raw)
