"""`{base_url}ws/chat`: the StudyMate protocol over an authenticated WebSocket."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Coroutine
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..chat.connection import ChatConnection
from .base import AUTH_RESOURCE, Compression, HandlerContext

log = logging.getLogger("studymate.socket")

EXTENSIONS = "Sec-WebSocket-Extensions"
# RFC 6455's "try again later": the client reconnects and resyncs, as after any drop.
TOO_FAR_BEHIND = 1013
# How long a closed slow reader keeps its socket: a client that is reading again gets the
# close frame, one that is not is cut off with its output freed.
CLOSE_GRACE = 1.0
# The kernel's share of a connection's unsent output. Left to itself Linux grows it to
# net.ipv4.tcp_wmem's maximum (4 MiB) for a client that is not reading, on top of what waits
# in Tornado; this is still ample for chat frames on a slow link (256 KiB a round trip).
KERNEL_SEND_BUFFER = 256 * 1024
DEFLATE_PARAMETERS = {
    "server_no_context_takeover",
    "client_no_context_takeover",
    "server_max_window_bits",
    "client_max_window_bits",
}


def agree_deflate(offers: str, window_bits: int) -> str | None:
    """The permessage-deflate response (RFC 7692) to a client's offers, its windows at most
    2**window_bits bytes each way; None when no offer can be accepted.

    The server's window is always bounded (server_max_window_bits may be answered unasked);
    the client's only when its offer allows it (client_max_window_bits), as the RFC says."""
    for offer in offers.split(","):
        name, *params = (part.strip() for part in offer.split(";"))
        if name.lower() != "permessage-deflate":
            continue
        asked: dict[str, str | None] = {}
        for param in params:
            key, has_value, value = (part.strip() for part in param.partition("="))
            key = key.lower()
            if key in asked or key not in DEFLATE_PARAMETERS:
                break
            asked[key] = value.strip('"') if has_value else None
        else:
            agreed = _agree(asked, window_bits)
            if agreed is not None:
                return "; ".join(["permessage-deflate", *agreed])
    return None


def _agree(asked: dict[str, str | None], window_bits: int) -> list[str] | None:
    """The parameters of one acceptable offer, or None to decline it."""
    # Tornado drops parameters without a value when it reads the header, so it cannot
    # honour server_no_context_takeover: decline it, as the RFC asks of a server that cannot.
    # client_no_context_takeover is the client's own affair: the answer may leave it out.
    if "server_no_context_takeover" in asked:
        return None
    agreed = []
    for side in ("server", "client"):
        key = f"{side}_max_window_bits"
        if key not in asked:
            if side == "server":
                agreed.append(f"{key}={window_bits}")
            continue  # a client that did not allow it keeps its 32 KiB window
        value = asked[key]
        if value is None:
            if side == "server":
                return None  # server_max_window_bits needs a value
            bits = window_bits
        elif value.isdigit() and 8 <= int(value) <= 15:
            # zlib's raw deflate has no 256-byte window (it would use 512): decline 8.
            bits = min(int(value), window_bits)
            if bits < 9:
                return None
        else:
            return None
        agreed.append(f"{key}={bits}")
    return agreed


class ChatSocket(ExtensionHandlerMixin, WebSocketMixin, WebSocketHandler, JupyterHandler):
    """One client connection. Frames are handled one after another, in arrival order."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str, context: HandlerContext, **kwargs: Any) -> None:
        super().initialize(name, **kwargs)
        self.context = context
        self.connection: ChatConnection | None = None
        # Bytes handed to Tornado and not yet to the kernel; None once the client was too
        # far behind to be sent anything more.
        self._unsent: int | None = 0

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Refuse before the upgrade: no frame is ever exchanged with an unauthorized client.
        user = self.current_user
        if not await ensure_async(
            self.authorizer.is_authorized(self, user, "execute", AUTH_RESOURCE)
        ):
            raise web.HTTPError(403)
        self._bound_compression_offer()
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

    def get_compression_options(self) -> dict[str, Any] | None:
        # None: Tornado ignores any offer and frames go uncompressed.
        compression = self.context.compression
        if compression is None:
            return None
        return {"compression_level": compression.level, "mem_level": compression.mem_level}

    def _bound_compression_offer(self) -> None:
        """Put the bounded answer in place of the client's offer. Tornado agrees to whatever
        is offered (its get_compression_options has no window size), so that each connection
        would keep a 32 KiB window and 256 KiB of compressor state."""
        compression: Compression | None = self.context.compression
        headers = self.request.headers
        if compression is None or EXTENSIONS not in headers:
            return
        agreed = agree_deflate(headers[EXTENSIONS], compression.window_bits)
        if agreed is None:
            del headers[EXTENSIONS]
        else:
            headers[EXTENSIONS] = agreed

    def open(self, *args: Any, **kwargs: Any) -> None:
        assert self.connection is not None  # made in get() before the upgrade
        # Frames are small and latency-bound: without this, Nagle's algorithm holds an echo
        # back until the client's delayed ACK (~40 ms) whenever a frame precedes it.
        self.set_nodelay(True)
        stream = self.ws_connection.stream if self.ws_connection is not None else None
        if stream is not None:
            stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER)
        self.connection.open()

    def on_close(self) -> None:
        if self.connection is not None:
            self.connection.close()

    def _send(self, frame: str, transient: bool = False) -> None:
        unsent = self._unsent
        if unsent is None:
            return
        limit = self.context.limits.max_unsent_bytes
        if transient and unsent > limit // 4:
            return  # typing goes first: the messages behind it say where a reply stands
        data = frame.encode()
        if unsent and unsent + len(data) > limit:
            self._cut_off(unsent, limit)
            return
        try:
            written = self.write_message(data)
        except WebSocketClosedError:
            return  # a closed socket is forgotten by the hub in on_close
        self._unsent = unsent + len(data)
        written.add_done_callback(lambda done: self._written(done, len(data)))

    def _written(self, done: asyncio.Future[None], size: int) -> None:
        if not done.cancelled():
            done.exception()  # a socket that closed meanwhile: on_close deals with it
        if self._unsent is not None:
            self._unsent -= size

    def _cut_off(self, unsent: int, limit: int) -> None:
        """Close a client that stopped reading, and free what was waiting for it."""
        assert self.connection is not None
        log.warning(
            "StudyMate closed a connection of %s that stopped reading: %d bytes waited to be "
            "sent, over StudyMate.max_unsent_bytes (%d)",
            self.connection.user_id,
            unsent,
            limit,
        )
        self._unsent = None
        self.connection.close()  # the hub stops sending to it now, not when the socket goes
        self.close(TOO_FAR_BEHIND, "too far behind on reading; reconnect to resync")
        IOLoop.current().call_later(CLOSE_GRACE, self._drop_socket)

    def _drop_socket(self) -> None:
        stream = self.ws_connection.stream if self.ws_connection is not None else None
        if stream is not None and not stream.closed():
            stream.close()  # discards the write buffer

    def on_message(self, raw: str | bytes) -> Coroutine[Any, Any, None] | None:
        # Tornado reads the next frame once a returned coroutine is done: frames stay in order.
        assert self.connection is not None
        return self.connection.handle(raw)
