"""How the terminal tests run `studymate chat` against a server: piped, as a script does, or
at a real terminal (a pty, with colours)."""

from __future__ import annotations

import os
import subprocess
import sys

import pexpect

from studymate_jupyter.pytest_plugin import ServerProcess

#: Settings of the test runner's environment that would point the client elsewhere.
_ELSEWHERE = ("STUDYMATE_URL", "STUDYMATE_TOKEN", "JUPYTER_TOKEN")


def _env(server: ServerProcess, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _ELSEWHERE}
    return {**env, "PYTHONIOENCODING": "utf-8", "STUDYMATE_TOKEN": server.token, **extra}


def studymate(
    server: ServerProcess, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`studymate chat --url …` with `stdin` piped in; what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "studymate_jupyter.cli", "chat", "--url", server.url, *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=90,
        env=_env(server),
    )


def at_a_terminal(server: ServerProcess, *args: str) -> pexpect.spawn:
    """`studymate chat --url …` on a pty of 40×120 that understands colours."""
    env = _env(server, TERM="xterm-256color")
    for name in ("NO_COLOR", "FORCE_COLOR", "COLORTERM"):
        env.pop(name, None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "studymate_jupyter.cli", "chat", "--url", server.url, *args],
        env=env,
        dimensions=(40, 120),
        encoding="utf-8",
        codec_errors="replace",
        timeout=60,
    )
