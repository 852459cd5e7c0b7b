"""A real JupyterHub as a subprocess: the documented course config plus test-only settings,
DummyAuthenticator and SimpleLocalProcessSpawner on 127.0.0.1, driven through its REST API."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from studymate_jupyter.pytest_plugin import ChatClient, free_port

DOCS = Path(__file__).resolve().parents[2] / "docs" / "jupyterhub.md"
PROXY_HINT = (
    "configurable-http-proxy is not installed (JupyterHub's proxy): "
    "npm install -g configurable-http-proxy"
)
INSTRUCTORS = ["alice"]
STUDENTS = ["bob", "carol"]
USERS = INSTRUCTORS + STUDENTS
# The service the tests act as: it starts and stops servers and issues each user a token.
SERVICE = "course-tests"
SERVICE_SCOPES = [
    "admin:users",
    "admin:servers",
    "admin:server_state",  # the server's state holds its PID, for the SIGKILL test
    "tokens",
    "read:groups",
]


def documented_config() -> str:
    """The jupyterhub_config.py that docs/jupyterhub.md shows, exactly as shown."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    configs = [block for block in blocks if block.startswith("# jupyterhub_config.py")]
    assert len(configs) == 1, "docs/jupyterhub.md must show one jupyterhub_config.py block"
    return str(configs[0])


def reads_db_url_env() -> bool:
    """True when StudyMate takes its database URL from STUDYMATE_DB_URL (db_url unset)."""
    from studymate_jupyter import app

    return hasattr(app, "DB_URL_ENV")


def process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    # The state follows the command name, which is in parentheses and may hold spaces.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class HubProcess:
    """`jupyterhub -f <config>` with its own ports, database, cookie secret and home folders
    under `workdir`; servers, tokens and groups through the hub's REST API."""

    def __init__(self, workdir: Path, db_url: str) -> None:
        self.workdir = workdir
        self.db_url = db_url
        self.public_port, self.hub_port, self.proxy_api_port = free_port(), free_port(), 0
        while self.proxy_api_port in (0, self.public_port, self.hub_port):
            self.proxy_api_port = free_port()
        self.password = uuid.uuid4().hex
        self.api_token = uuid.uuid4().hex
        self.config_path = workdir / "jupyterhub_config.py"
        self.log_path = workdir / "jupyterhub.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}
        # Every single-user server PID seen, to check that none outlives the hub.
        self.server_pids: set[int] = set()
        self.proxy_pid: int | None = None
        self.clients: list[ChatClient] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    def test_settings(self) -> str:
        """What only the tests add to the documented config."""
        home = self.workdir / "home"
        # The documented config hands the URL over in STUDYMATE_DB_URL. Where this StudyMate
        # does not read that variable yet (StudyMate.db_url's fallback to it comes with the
        # PostgreSQL store), the test servers also get it on their command line, so the tests
        # check the one shared database either way.
        db_url_args = [] if reads_db_url_env() else [f"--StudyMate.db_url={self.db_url}"]
        return f"""
# ---- test-only settings (tests/hub/hub_process.py) ----
import sys
DB_URL_ARGS = {db_url_args!r}
c.JupyterHub.bind_url = "http://127.0.0.1:{self.public_port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {self.hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = {str(self.workdir / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{self.workdir / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(self.workdir / "jupyterhub_cookie_secret")!r}
c.JupyterHub.pid_file = {str(self.workdir / "jupyterhub.pid")!r}
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {self.password!r}
c.Authenticator.allowed_users = {set(USERS)!r}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(home / "{username}")!r}
# The servers run from this venv whatever PATH says, as the hub does.
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
# SimpleLocalProcessSpawner runs every server as the hub's own user, root in CI, and
# jupyter-server refuses to start as root without this; a real hub's spawner runs each
# server as its user.
c.Spawner.args = [*c.Spawner.args, "--allow-root", *DB_URL_ARGS]
# A loaded 2-core machine starts a server in a few seconds, not the default's 10 s budget.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# A start request answers at once (202), not after up to 10 s: servers start together.
c.JupyterHub.tornado_settings = {{"slow_spawn_timeout": 0}}
c.JupyterHub.services = [{{"name": {SERVICE!r}, "api_token": {self.api_token!r}}}]
c.JupyterHub.load_roles = [
    {{"name": {SERVICE!r}, "scopes": {SERVICE_SCOPES!r}, "services": [{SERVICE!r}]}}
]
"""

    def start(self, timeout: float = 90) -> None:
        proxy = shutil.which("configurable-http-proxy")
        if proxy is None:
            raise LookupError(PROXY_HINT)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(documented_config() + self.test_settings())
        env = dict(os.environ, STUDYMATE_DB_URL=self.db_url)
        # The hub finds the proxy on PATH; pin it to the one found, whatever PATH the hub has.
        env["PATH"] = f"{Path(proxy).parent}{os.pathsep}{env.get('PATH', '')}"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(self.config_path)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited early; see {self.log_path}")
            try:
                self.api("GET", "/")
                break
            except (OSError, urllib.error.HTTPError):
                time.sleep(0.2)
        else:
            self.stop()
            raise TimeoutError(f"jupyterhub did not answer within {timeout} s: {self.log_path}")
        pid_file = self.workdir / "proxy.pid"
        if pid_file.exists():
            self.proxy_pid = int(pid_file.read_text().strip())

    # ---- the hub's REST API, as the tests' service -------------------------------------

    def api(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """Call `{public}/hub/api{path}` with the service's token; the decoded JSON answer."""
        request = urllib.request.Request(
            f"{self.url}/hub/api{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.api_token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def user(self, name: str) -> dict[str, Any]:
        model: dict[str, Any] = self.api("GET", f"/users/{name}")
        return model

    def start_servers(self, names: list[str]) -> list[int]:
        """Start these users' servers together; their PIDs once all are ready."""
        for name in names:
            self.request_start(name)
        return [self.start_server(name) for name in names]

    def request_start(self, name: str) -> None:
        """Ask the hub to start `name`'s server. The hub first checks that a server it
        thinks is running still is (it finds a killed one dead and starts a new one)."""
        try:
            self.api("POST", f"/users/{name}/server")
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code != 400:  # 400: it runs already
                raise

    def start_server(self, name: str, timeout: float = 120) -> int:
        """Start `name`'s server through the hub (unless it is starting or running) and wait
        until the hub says it is ready; its PID."""
        self.request_start(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.user(name)["servers"].get("")
            if server and server["ready"]:
                pid = int(server["state"]["pid"])
                self.server_pids.add(pid)
                return pid
            time.sleep(0.2)
        raise TimeoutError(f"{name}'s server not ready within {timeout} s; see {self.log_path}")

    def stop_server(self, name: str, timeout: float = 60) -> None:
        self.api("DELETE", f"/users/{name}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "" not in self.user(name)["servers"]:
                return
            time.sleep(0.2)
        raise TimeoutError(f"{name}'s server did not stop within {timeout} s")

    def server_pid(self, name: str) -> int:
        return int(self.user(name)["servers"][""]["state"]["pid"])

    def token(self, name: str) -> str:
        """An API token of `name`'s own (as a user makes on the hub's token page)."""
        if name not in self.tokens:
            answer = self.api(
                "POST", f"/users/{name}/tokens", {"note": "tests/hub", "expires_in": 3600}
            )
            self.tokens[name] = str(answer["token"])
        return self.tokens[name]

    # ---- a user's StudyMate, through the proxy -----------------------------------------

    def studymate(
        self,
        name: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        as_user: str | None = None,
        anonymous: bool = False,
    ) -> tuple[int, Any]:
        """`{public}/user/<name>/studymate/api/<path>` with `as_user`'s token (default: the
        owner's; none if `anonymous`): its status and decoded JSON, without following a
        redirect."""
        headers = {"Content-Type": "application/json"}
        if not anonymous:
            headers["Authorization"] = f"token {self.token(as_user or name)}"
        request = urllib.request.Request(
            f"{self.url}/user/{name}/studymate/api/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers=headers,
        )
        try:
            with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            with exc:
                raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw.decode(errors="replace")

    async def connect(
        self, name: str, *, as_user: str | None = None, anonymous: bool = False
    ) -> ChatClient:
        """A WebSocket to `{public}/user/<name>/ws/chat` with `as_user`'s token (default: the
        owner's; none if `anonymous`)."""
        request = HTTPRequest(
            f"ws://127.0.0.1:{self.public_port}/user/{name}/ws/chat",
            headers={} if anonymous else {"Authorization": f"token {self.token(as_user or name)}"},
        )
        client = ChatClient(await websocket_connect(request))
        self.clients.append(client)
        return client

    def close_clients(self) -> None:
        """Close the test's WebSockets, on the loop they were opened on (each test has its own
        loop; a socket left open warns when it is collected)."""
        clients, self.clients = self.clients, []
        for client in clients:
            client.close()

    # ---- stopping --------------------------------------------------------------------

    def stop(self, timeout: float = 60) -> None:
        """Stop the hub by its PID with SIGTERM: it stops the servers it started and its
        proxy (cleanup_servers and cleanup_proxy are on by default)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            raise

    def leftovers(self, timeout: float = 20) -> list[int]:
        """PIDs of the servers and the proxy still running `timeout` seconds after the hub
        stopped (the hub waits for each server's exit, the proxy may take a moment)."""
        pids = {*self.server_pids, *([self.proxy_pid] if self.proxy_pid else [])}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            alive = sorted(pid for pid in pids if process_alive(pid))
            if not alive:
                return []
            time.sleep(0.2)
        return alive

    def kill_leftovers(self, pids: list[int]) -> None:
        """SIGKILL the given PIDs, ours only (each a server this hub started or its proxy)."""
        for pid in pids:
            if pid in self.server_pids or pid == self.proxy_pid:
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                    os.kill(pid, signal.SIGKILL)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Show a redirect (to the hub's login) as the answer, instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def stored_messages(db_url: str, chat_id: str) -> list[tuple[str, str, str]]:
    """(id, user_id, role) of every message of a chat as the shared database holds it, oldest
    first: read directly, not through a server."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, user_id, role FROM messages WHERE chat_id = :c ORDER BY seq"),
                {"c": chat_id},
            )
            return [(str(row[0]), str(row[1]), str(row[2])) for row in rows]
    finally:
        engine.dispose()
