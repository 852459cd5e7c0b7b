"""The processes under test: StudyMate in `jupyter server`, the bare echo, the fake model.

Each runs as its own subprocess on 127.0.0.1 and is stopped by the context that started it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, TypeVar

from studymate_jupyter.pytest_plugin import ServerProcess, free_port

from .users import token_for

REPO = Path(__file__).resolve().parents[1]
OWNER = "bench"
# The server's clock ticks (for /proc/<pid>/stat CPU times).
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
S = TypeVar("S", bound="Subprocess")


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def python_path_env() -> dict[str, str]:
    """The environment with this checkout importable (the server loads bench.assistant)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


class StudyMateServer(ServerProcess):
    """`jupyter server` with StudyMate, owned by the user `bench`, as a subprocess."""

    def __init__(self, workdir: Path, extra_args: list[str] | None = None) -> None:
        super().__init__(workdir, extra_args=[f"--StudyMate.owner_id={OWNER}", *(extra_args or [])])

    def env(self) -> dict[str, str]:
        env = super().env()
        env["PYTHONPATH"] = python_path_env()["PYTHONPATH"]
        return env

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def ws_plain_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/chat"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def post(self, path: str, body: dict[str, Any], token: str | None = None) -> Any:
        """POST as the server's owner, or as the user a token names (bench.users)."""
        headers = self.headers if token is None else {"Authorization": f"token {token}"}
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={**headers, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def new_chat(self, title: str = "bench", token: str | None = None) -> str:
        return str(self.post("studymate/api/chats", {"title": title}, token)["id"])

    def __enter__(self) -> StudyMateServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ManyUsersServer(StudyMateServer):
    """StudyMate behind an identity provider that names users by their tokens (bench.users),
    so each connection can be a user of its own, as under JupyterHub."""

    def __init__(self, workdir: Path, first_user: str, extra_args: list[str] | None = None) -> None:
        super().__init__(
            workdir,
            ["--ServerApp.identity_provider_class=bench.users.NamedUsers", *(extra_args or [])],
        )
        self.token = token_for(first_user)  # the readiness check asks as this user


class Subprocess:
    """A small helper server (`python -m bench.<module> PORT ...`) stopped on exit."""

    def __init__(self, module: str, *args: str) -> None:
        self.port = free_port()
        self.args = [sys.executable, "-m", f"bench.{module}", str(self.port), *args]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self: S) -> S:
        self.process = subprocess.Popen(self.args, env=python_path_env(), cwd=REPO)
        try:
            wait_for_port(self.port, self.process)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class BareEcho(Subprocess):
    def __init__(self) -> None:
        super().__init__("bare_echo")

    @property
    def ws_plain_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/echo"


class FakeLLM(Subprocess):
    def __init__(self, pieces: int, delay: float) -> None:
        super().__init__("fake_llm", str(pieces), str(delay))

    @property
    def args_for_server(self) -> list[str]:
        return [
            "--StudyMate.assistant=openai",
            f"--OpenAIProvider.base_url=http://127.0.0.1:{self.port}/v1",
            "--OpenAIProvider.model=fake",
        ]
