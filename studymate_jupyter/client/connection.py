"""One WebSocket to the server, opened again with backoff whenever it is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from ..protocol import ClientFrame, ServerFrame, read_server_frame
from .backoff import Backoff
from .discovery import ServerInfo
from .errors import StudyMateError
from .signals import Signal
from .types import ConnectionState

log = logging.getLogger("studymate_jupyter.client")

#: jupyter-server's own limit for a WebSocket message (10 MiB).
MAX_FRAME_BYTES = 10 * 1024 * 1024


async def open_websocket(server: ServerInfo, timeout: float) -> WebSocketClientConnection:
    """Open ``/ws/chat`` with the server's token; StudyMateError(forbidden) if refused."""
    headers = {"Authorization": f"token {server.token}"} if server.token else {}
    request = HTTPRequest(
        server.ws_url, headers=headers, connect_timeout=timeout, request_timeout=timeout
    )
    try:
        return await websocket_connect(
            request,
            max_message_size=MAX_FRAME_BYTES,
            # Pings notice a server that vanished without closing the TCP connection.
            ping_interval=20,
            ping_timeout=20,
        )
    except HTTPClientError as exc:
        if exc.code in (401, 403):
            # Retrying cannot fix a wrong token.
            raise StudyMateError(
                "forbidden", f"the server refused the token ({exc.code})", status=exc.code
            ) from exc
        raise


def _consume_error(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class Connection:
    """The reconnect loop: open a socket, run the handshake, read frames until it drops.

    ``open_socket`` raises StudyMateError for a refusal that retrying cannot fix (a wrong
    token): the loop then stops for good. ``handshake`` runs on each new socket and sets the
    state to ``connected`` when it is done; ``on_frame`` gets every valid server frame;
    ``on_lost`` is called when a socket's reading ends (nothing in flight will be answered).
    """

    def __init__(
        self,
        *,
        open_socket: Callable[[], Awaitable[WebSocketClientConnection]],
        handshake: Callable[[], Awaitable[None]],
        on_frame: Callable[[ServerFrame], None],
        on_lost: Callable[[], None],
        on_state: Signal[ConnectionState],
        on_error: Signal[StudyMateError],
        backoff: Backoff,
        sleep: Callable[[float], Awaitable[object]],
        max_attempts: int | None,
    ) -> None:
        self._open_socket = open_socket
        self._handshake = handshake
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._on_state = on_state
        self._on_error = on_error
        self.backoff = backoff
        self._sleep = sleep
        self.max_attempts = max_attempts
        self.label = ""
        self.socket: WebSocketClientConnection | None = None
        self._state: ConnectionState = "offline"
        self._task: asyncio.Task[None] | None = None
        self._connected: asyncio.Event | None = None
        self._fatal: StudyMateError | None = None
        self._closing = False
        self._ever_connected = False

    @property
    def state(self) -> ConnectionState:
        return self._state

    def set_state(self, state: ConnectionState) -> None:
        if state != self._state:
            self._state = state
            if self._connected is not None:
                if state == "connected":
                    self._connected.set()
                else:
                    self._connected.clear()
            self._on_state.emit(state)

    def start(self, label: str) -> None:
        """Start connecting in the background, unless already running; ``label`` names the
        server in the log."""
        self.label = label
        if self._task is None or self._task.done():
            self._closing = False
            self._fatal = None
            self._connected = asyncio.Event()
            self._task = asyncio.ensure_future(self._run())

    async def wait_connected(self, timeout: float | None = None) -> None:
        if self._task is None or self._connected is None:
            raise RuntimeError("call start() or connect() first")
        connected = asyncio.ensure_future(self._connected.wait())
        try:
            done, _ = await asyncio.wait(
                {connected, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            connected.cancel()
        if self._fatal is not None:
            raise self._fatal
        if connected not in done:
            if self._task in done:
                raise StudyMateError("unavailable", "the client stopped trying to connect")
            raise TimeoutError(f"not connected to {self.label} in {timeout} s")

    async def close(self) -> None:
        """Close the socket and stop reconnecting (the caller then sets the state offline,
        once it has failed what was waiting)."""
        self._closing = True
        if self.socket is not None:
            self.socket.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def write(self, frame: ClientFrame) -> bool:
        """Send a frame now; False if there is no open socket to send it on."""
        if self.socket is None:
            return False
        raw = frame.encode()
        log.debug("-> %.300s", raw)
        try:
            written = self.socket.write_message(raw)
        except (WebSocketClosedError, StreamClosedError):
            return False
        # A write that fails later means the connection is lost; the read loop notices that.
        written.add_done_callback(_consume_error)
        return True

    async def _run(self) -> None:
        attempt = 0
        try:
            while not self._closing:
                self.set_state("reconnecting" if self._ever_connected or attempt else "connecting")
                try:
                    socket = await self._open_socket()
                except StudyMateError as exc:
                    self._fatal = exc
                    self._on_error.emit(exc)
                    return
                except (TimeoutError, OSError, HTTPClientError, StreamClosedError) as exc:
                    log.info("cannot connect to %s: %s", self.label, exc)
                else:
                    if await self._session(socket):
                        attempt = 0
                if self._closing:
                    return
                if self.max_attempts is not None and attempt >= self.max_attempts:
                    self._on_error.emit(
                        StudyMateError("unavailable", f"gave up after {attempt + 1} attempts")
                    )
                    return
                self.set_state("reconnecting")
                delay = self.backoff.delay(attempt)
                attempt += 1
                await self._sleep(delay)
        finally:
            if not self._closing:
                self.set_state("offline")

    async def _session(self, socket: WebSocketClientConnection) -> bool:
        """Run one socket to its end; True if it got as far as ``connected``."""
        self.socket = socket
        reader = asyncio.ensure_future(self._read_loop(socket))
        connected = False
        try:
            await self._handshake()
            connected = True
            self._ever_connected = True
        except (TimeoutError, StudyMateError) as exc:
            log.info("handshake with %s failed: %s", self.label, exc)
            socket.close()
        try:
            await reader
        finally:
            if self.socket is socket:
                self.socket = None
            socket.close()  # one the server closed is still open on this side until then
        return connected

    async def _read_loop(self, socket: WebSocketClientConnection) -> None:
        try:
            while True:
                raw = await socket.read_message()
                if raw is None:
                    return
                if isinstance(raw, bytes):
                    continue
                log.debug("<- %.500s", raw)
                try:
                    frame = read_server_frame(raw)
                except ValueError as exc:
                    log.warning("ignoring a malformed frame (%s): %.200s", exc, raw)
                    continue
                if frame is None:
                    # Servers may add frames; old clients ignore them.
                    log.debug("ignoring a frame of a type this client does not know")
                    continue
                try:
                    self._on_frame(frame)
                except Exception:
                    log.exception("failed to handle frame %.200s", raw)
        finally:
            self._on_lost()
