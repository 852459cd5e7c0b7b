"""Pytest fixtures for StudyMate: a real server (in-process or as a subprocess) and clients.

Load it after pytest-jupyter's:
`pytest_plugins = ["pytest_jupyter.jupyter_server", "studymate_jupyter.pytest_plugin"]`.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

Frame = dict[str, Any]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChatClient:
    """A test WebSocket client that speaks frames and waits for them with a deadline."""

    def __init__(self, conn: WebSocketClientConnection) -> None:
        self.conn = conn
        self.seen: list[Frame] = []
        # Where it was opened: its loop, and the thread that runs it.
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    async def send(self, frame_type: str, data: dict[str, Any] | None = None) -> None:
        await self.conn.write_message(json.dumps({"type": frame_type, "data": data or {}}))

    async def send_raw(self, raw: str | bytes) -> None:
        await self.conn.write_message(raw, binary=isinstance(raw, bytes))

    async def recv(self, timeout: float = 10) -> Frame:
        raw = await asyncio.wait_for(self.conn.read_message(), timeout)
        if raw is None:
            raise ConnectionError(f"socket closed ({self.conn.close_code})")
        frame: Frame = json.loads(raw)
        self.seen.append(frame)
        return frame

    async def recv_until(
        self, predicate: Callable[[Frame], bool], timeout: float = 10
    ) -> list[Frame]:
        """Every frame up to and including the first one matching `predicate`."""
        frames: list[Frame] = []
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - time.monotonic()))
            frames.append(frame)
            if predicate(frame):
                return frames

    async def expect_nothing_sent(self) -> None:
        """Assert that nothing reached this connection beyond what was read. The server
        answers a connection's frames in order, each after the frames already sent to it,
        so the answer to an `auth` sent now must be the next frame."""
        await self.send("auth", {})
        frame = await self.recv()
        assert frame["type"] == "auth_ok", f"unexpected frame: {frame!r}"

    async def expect_silence(self, seconds: float = 0.3) -> None:
        """Assert that no frame arrives for a while (where no frame can mark the moment:
        prefer `expect_nothing_sent`)."""
        try:
            frame = await asyncio.wait_for(self.conn.read_message(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame: {frame!r}")

    async def reply_to(self, text: str, chat_id: str | None = None, **extra: Any) -> list[Frame]:
        """Send a user message; return every frame up to its reply's final state."""
        data: dict[str, Any] = {
            "message": {"id": uuid.uuid4().hex, "role": "user", "content": text},
            **extra,
        }
        if chat_id is not None:
            data["chat_id"] = chat_id
        await self.send("message", data)
        return await self.recv_until(is_final_reply, timeout=30)

    async def after_reply(self) -> list[Frame]:
        """The frames that follow a reply's final state: typing off, then the chat_updated
        that carries its chat's new unread count."""
        return await self.recv_until(lambda f: f["type"] == "chat_updated")

    def close(self) -> None:
        self.conn.close()

    def close_from_any_thread(self) -> None:
        """Close the connection on its own loop (tests stop servers from worker threads)."""
        if threading.get_ident() == self._thread:
            self.close()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.close)


def is_final_reply(frame: Frame) -> bool:
    if frame["type"] != "message":
        return False
    message = frame["data"]["message"]
    return bool(message["role"] == "assistant" and message["status"] != "streaming")


@pytest.fixture
def studymate_config() -> dict[str, Any]:
    """Extra `StudyMate` traits for this test (override the fixture to set them)."""
    return {}


@pytest.fixture
def studymate_db(tmp_path: Path) -> Path:
    return tmp_path / "studymate.db"


@pytest.fixture
def studymate_db_url(studymate_db: Path) -> str:
    """The database URL the test's server gets (override it for another database: a project's
    tests/conftest.py can parametrize it over backends)."""
    return f"sqlite:///{studymate_db}"


@pytest.fixture
def server_config() -> dict[str, dict[str, Any]]:
    """Settings of any class for this test, by class name: {"OpenAIProvider": {...}}; its
    "StudyMate" section adds to studymate_config's."""
    return {}


@pytest.fixture
def jp_server_config(
    studymate_config: dict[str, Any],
    server_config: dict[str, dict[str, Any]],
    studymate_db_url: str,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        **server_config,
        "ServerApp": {"jpserver_extensions": {"studymate_jupyter": True}},
    }
    config["StudyMate"] = {
        "db_url": studymate_db_url,
        # An in-process server shares the test process: freezing its heap would keep every
        # earlier test's objects for the rest of the session.
        "freeze_startup_objects": False,
        **server_config.get("StudyMate", {}),
        **studymate_config,
    }
    return config


@pytest.fixture
def chat_ws(
    jp_serverapp: Any, jp_ws_fetch: Callable[..., Awaitable[WebSocketClientConnection]]
) -> Iterator[Callable[..., Awaitable[ChatClient]]]:
    """Open `/ws/chat` as the server's owner (or with other headers) and wrap it."""

    clients: list[ChatClient] = []

    async def connect(**kwargs: Any) -> ChatClient:
        clients.append(ChatClient(await jp_ws_fetch("ws", "chat", **kwargs)))
        return clients[-1]

    yield connect
    # Closed while the server still runs: an unclosed one warns when it is collected.
    for client in clients:
        client.close()


@pytest.fixture
def api(jp_fetch: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Call `studymate/api/...` and decode the JSON answer (204 gives None)."""

    async def call(path: str, method: str = "GET", body: Any = None, **kwargs: Any) -> Any:
        if body is not None:
            kwargs["body"] = json.dumps(body)
        path, _, query = path.partition("?")
        if query:
            kwargs["params"] = dict(urllib.parse.parse_qsl(query))
        response = await jp_fetch("studymate", "api", *path.split("/"), method=method, **kwargs)
        return json.loads(response.body) if response.body else None

    return call


# ---- a jupyter server in its own process ----------------------------------------------------


class ServerProcess:
    """`jupyter server` (or `jupyter lab`) as a real subprocess on 127.0.0.1 and a free port."""

    def __init__(self, workdir: Path, app: str = "server", extra_args: list[str] | None = None):
        self.workdir = workdir
        self.app = app
        self.port = free_port()
        self.token = uuid.uuid4().hex
        self.root_dir = workdir / "root"
        self.root_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = workdir / "studymate.db"
        self.extra_args = extra_args or []
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{app}.log"
        self.clients: list[ChatClient] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/chat?token={self.token}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "JUPYTER_DATA_DIR": str(self.workdir / "data"),
                "JUPYTER_RUNTIME_DIR": str(self.workdir / "runtime"),
                "JUPYTER_CONFIG_DIR": str(self.workdir / "config"),
                "JUPYTER_PLATFORM_DIRS": "1",
            }
        )
        return env

    def start(self, timeout: float = 60) -> None:
        args = [
            sys.executable,
            "-m",
            "jupyterlab" if self.app == "lab" else "jupyter_server",
            f"--ServerApp.port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            *self.extra_args,
        ]
        # One value each: a setting given twice on the command line is refused at start.
        if not any(arg.startswith("--StudyMate.db_url=") for arg in self.extra_args):
            args.append(f"--StudyMate.db_url=sqlite:///{self.db_path}")
        with self.log_path.open("ab") as log:  # the server writes to its own copy
            self.process = subprocess.Popen(
                args, env=self.env(), stdout=log, stderr=subprocess.STDOUT, cwd=self.root_dir
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log_path}")
            try:
                self.get("api/status")
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"server did not answer within {timeout} s; see {self.log_path}")

    def call(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        """Call the server's HTTP API as its owner (the token), as a script or another tab
        would; the decoded JSON answer (None for an empty one)."""
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")

    def get(self, path: str) -> Any:
        return self.call("GET", path, timeout=5)

    def stop(self, timeout: float = 20) -> None:
        """Stop the server cleanly with SIGTERM, killing it if it hangs. jupyter-server
        answers SIGTERM by stopping its extensions (StudyMate stores the replies in progress)
        and then its loop. SIGINT is no clean stop here: at a terminal it asks to confirm;
        without one it raises KeyboardInterrupt out of the loop, and the server exits without
        stopping its extensions."""
        self._close_clients()
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def kill(self) -> None:
        """Stop the server abruptly, as a crash would."""
        self._close_clients()
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    async def connect(self, token: str | None = None) -> ChatClient:
        """A connection as the owner (or with `token`), closed when the server stops."""
        request = HTTPRequest(
            f"ws://127.0.0.1:{self.port}/ws/chat",
            headers={"Authorization": f"token {token or self.token}"},
        )
        self.clients.append(ChatClient(await websocket_connect(request)))
        return self.clients[-1]

    def _close_clients(self) -> None:
        # They cannot outlive the server; an unclosed one warns when it is collected.
        clients, self.clients = self.clients, []
        for client in clients:
            client.close_from_any_thread()


@pytest.fixture
def studymate_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A started `jupyter server` subprocess with StudyMate on a temporary SQLite file."""
    server = ServerProcess(tmp_path / "server")
    server.start()
    try:
        yield server
    finally:
        server.stop()
