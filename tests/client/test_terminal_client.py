"""`studymate chat` driven through a subprocess, as a person at a terminal would use it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from studymate_jupyter.pytest_plugin import ServerProcess


def studymate(
    server: ServerProcess, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for name in ("STUDYMATE_URL", "STUDYMATE_TOKEN", "JUPYTER_TOKEN"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "studymate_jupyter.cli", "chat", "--url", server.url, *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=90,
        env={**env, "STUDYMATE_TOKEN": server.token},
    )


CITATION = re.compile(r"^\[1\] notes\.md p\.\d+(\u2013\d+)?$", re.MULTILINE)


def test_the_terminal_client_streams_a_cited_answer_and_exits_at_end_of_input(
    library_server: ServerProcess,
) -> None:
    asked = studymate(library_server, stdin="What is an eigenvalue?\n")
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("studymate: ")
    assert "eigenvalue" in asked.stdout.lower()
    assert CITATION.search(asked.stdout), asked.stdout

    listed = studymate(library_server, stdin="/chats\n")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    chat_id = line.split()[0]
    assert "(2 messages)" in line

    # Reopening the chat prints its history, with the citations, then leaves at end of input.
    reopened = studymate(library_server, "--chat", chat_id)
    assert reopened.returncode == 0, reopened.stderr
    assert reopened.stdout.startswith("you: What is an eigenvalue?\nstudymate: ")
    assert CITATION.search(reopened.stdout)


def test_a_wrong_token_ends_the_terminal_client_with_an_error(
    library_server: ServerProcess,
) -> None:
    refused = studymate(library_server, "--token", "wrong", stdin="hello\n")
    assert refused.returncode == 2
    assert "forbidden" in refused.stderr
    assert refused.stdout == ""
