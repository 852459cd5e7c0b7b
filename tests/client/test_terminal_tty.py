"""`studymate chat` at a real terminal: a 40×120 pseudo-terminal driven by pexpect, against a
real server. What it writes is read as a person would read the screen: with the escape
sequences stripped, except where the styling itself is what is tested."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
from fake_llm import FakeLLM

from studymate_jupyter.pytest_plugin import ServerProcess

ROWS, COLUMNS = 40, 120
#: CSI sequences (styles, cursor moves, erasing), OSC sequences, and the two-byte ones.
ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Z]|.)")
STYLE = re.compile(r"\x1b\[[0-9;]*m")
DIM_CITATION = re.compile(r"\x1b\[[0-9;]*2[0-9;]*m\[1\] notes\.md \u00a7 \w+")

SpawnServer = Callable[[list[str], float], ServerProcess]


def text_of(written: str) -> str:
    """What `written` says, without its escape sequences and carriage returns."""
    return ESCAPES.sub("", written).replace("\r", "")


class Terminal:
    """`studymate chat` (or a shell command around it) in a pseudo-terminal."""

    def __init__(self, server: ServerProcess, *args: str, shell_after: str | None = None):
        env = {**os.environ, "TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8"}
        for name in ("STUDYMATE_URL", "JUPYTER_TOKEN", "NO_COLOR", "FORCE_COLOR", "COLORTERM"):
            env.pop(name, None)
        env["STUDYMATE_TOKEN"] = server.token
        command = [sys.executable, "-m", "studymate_jupyter.cli", "chat", "--url", server.url]
        command += args
        if shell_after is not None:
            # The shell's command runs in the same terminal once the chat has left.
            command = ["/bin/sh", "-c", '"$@"; ' + shell_after, "sh", *command]
        self.child = pexpect.spawn(
            command[0],
            command[1:],
            env=env,
            dimensions=(ROWS, COLUMNS),
            encoding="utf-8",
            codec_errors="replace",
            timeout=60,
        )
        self.written = ""

    def wait_for(self, text: str) -> str:
        """Wait until `text` is written (as it is, escapes included); what was written
        since the last wait."""
        self.child.expect_exact(text)
        since = f"{self.child.before}{self.child.after}"
        self.written += since
        return since

    def type(self, line: str) -> None:
        self.child.send(line + "\r")

    def leave(self) -> str:
        """Wait for the program to end; what it wrote last."""
        self.child.expect(pexpect.EOF)
        rest = str(self.child.before)
        self.written += rest
        self.child.close()
        return rest

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture
def terminals() -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(
        server: ServerProcess, *args: str, shell_after: str | None = None
    ) -> Terminal:
        terminal = Terminal(server, *args, shell_after=shell_after)
        opened.append(terminal)
        return terminal

    yield open_terminal
    for terminal in opened:
        terminal.close()


@contextlib.contextmanager
def model_answering(pieces: list[str], delay: float) -> Iterator[FakeLLM]:
    """The fake model on an event loop of its own: these tests drive pexpect synchronously."""
    loop = asyncio.new_event_loop()
    ready: queue.Queue[FakeLLM] = queue.Queue()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        ready.put(FakeLLM(pieces, delay))
        loop.run_forever()

    thread = threading.Thread(target=serve, name="fake-llm", daemon=True)
    thread.start()
    llm = ready.get(timeout=10)
    try:
        yield llm
    finally:
        loop.call_soon_threadsafe(llm.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def scripted_server(tmp_path: Path) -> Iterator[SpawnServer]:
    """Start a server whose assistant streams the given pieces, `delay` seconds apart."""
    with contextlib.ExitStack() as stack:

        def start(pieces: list[str], delay: float) -> ServerProcess:
            llm = stack.enter_context(model_answering(pieces, delay))
            server = ServerProcess(
                tmp_path / "scripted",
                extra_args=llm.args,
            )
            stack.callback(server.stop)
            server.start()
            return server

        yield start


MARKDOWN_REPLY = [
    "# Eigenvalues in short\n\n",
    "An **eigenvalue** scales its eigenvector.\n\n",
    "Text like [bold]this[/bold] and <b>this</b> is shown as it was written.\n\n",
    "```\n>>> print(*[1, 2, 3])\n[1] 1 2 3\n```\n",
]


def test_a_question_shows_the_spinner_then_the_rendered_answer_and_dim_citations(
    library_server: ServerProcess, terminals: Callable[..., Terminal]
) -> None:
    terminal = terminals(library_server)
    terminal.wait_for("/help for commands")
    terminal.type("What is an eigenvalue?")
    asked = terminal.wait_for("StudyMate is thinking…")
    assert "› What is an eigenvalue?" in text_of(asked)
    answered = terminal.wait_for("/help for commands")
    seen = text_of(answered)
    assert "From your course material:" in seen
    # The offline assistant answers with a Markdown list: bullets, not dashes.
    assert " • " in seen
    assert "- " not in seen
    assert "eigenvalue" in seen.lower()
    assert DIM_CITATION.search(answered), answered
    terminal.type("/quit")
    terminal.leave()
    assert terminal.child.exitstatus == 0


def test_markdown_is_rendered_while_html_and_markup_in_a_reply_stay_text(
    scripted_server: SpawnServer, terminals: Callable[..., Terminal]
) -> None:
    server = scripted_server(MARKDOWN_REPLY, 0.3)
    terminal = terminals(server)
    terminal.wait_for("/help for commands")
    terminal.type("Explain eigenvalues")
    terminal.wait_for("/stop or Ctrl-C stops the reply")
    answered = terminal.wait_for("/help for commands")
    seen = text_of(terminal.written)
    assert "Eigenvalues in short" in seen
    assert "# Eigen" not in seen
    assert "**" not in seen
    assert re.search(r"\x1b\[[0-9;]*1[0-9;]*meigenvalue", answered), "eigenvalue is not bold"
    assert "Text like [bold]this[/bold] and <b>this</b> is shown as it was written." in seen
    # The code block stays code, on a background, the console output in it included.
    assert ">>> print(*[1, 2, 3])" in text_of(answered)
    assert re.search(r"^ *\[1\] 1 2 3 *$", text_of(answered), re.MULTILINE)
    assert re.search(r"\x1b\[[0-9;]*48;[0-9;]*m", answered), "the code block has no background"
    terminal.type("/quit")
    terminal.leave()


def test_a_reply_longer_than_the_screen_streams_its_tail_then_prints_in_full(
    scripted_server: SpawnServer, terminals: Callable[..., Terminal]
) -> None:
    steps = [f"{n}. step number {n}\n" for n in range(1, 61)]
    server = scripted_server(["Here are the steps:\n\n", "".join(steps), "\nThat is all."], 0.6)
    terminal = terminals(server)
    terminal.wait_for("/help for commands")
    terminal.type("Give me sixty steps")
    terminal.wait_for("more lines: the whole reply prints when it ends")
    terminal.wait_for("/help for commands")
    seen = text_of(terminal.written)
    # After the last streamed frame, the whole reply, in order, once.
    final = "\n".join(line.rstrip() for line in seen[seen.rindex("more lines") :].splitlines())
    position = final.index("Here are the steps:")
    for n in range(1, 61):
        position = final.index(f"step number {n}\n", position)
    assert final.index("That is all.", position) > position
    assert final.count("Here are the steps:") == 1
    terminal.type("/quit")
    terminal.leave()


def test_ctrl_c_stops_the_reply_and_a_command_typed_meanwhile_follows_it(
    scripted_server: SpawnServer, terminals: Callable[..., Terminal]
) -> None:
    server = scripted_server([f"word{n} " for n in range(200)], 0.1)
    terminal = terminals(server)
    terminal.wait_for("/help for commands")
    terminal.type("Talk for a while")
    terminal.wait_for("word3")
    terminal.type("/help")
    terminal.wait_for("show this list")
    terminal.child.send("\x03")
    terminal.wait_for("(stopped)")
    terminal.wait_for("/help for commands")
    seen = text_of(terminal.written)
    assert "word199" not in seen
    # Typed while the reply streamed, /help went into the transcript after the reply.
    assert seen.rindex("› /help") > seen.rindex("(stopped)")
    terminal.type("/quit")
    terminal.leave()


def test_chats_are_numbered_newest_first_and_open_n_opens_one(
    library_server: ServerProcess, terminals: Callable[..., Terminal]
) -> None:
    terminal = terminals(library_server, shell_after="stty -a")
    terminal.wait_for("/help for commands")
    terminal.type("What is an eigenvalue?")
    terminal.wait_for("notes.md \u00a7 ")
    terminal.type("/new")
    terminal.wait_for("your next message starts it")
    # Typed with a slip, corrected in place: the line sent is the corrected one.
    terminal.child.send("What is a determinnt")
    terminal.child.send("\x7f\x7f\x7fnant?\r")
    terminal.wait_for("notes.md \u00a7 ")
    terminal.type("/chats")
    listed = text_of(terminal.wait_for("2 messages"))
    listed += text_of(terminal.wait_for("/help for commands"))
    assert re.search(r"\*1 +What is a determinant\? +2 messages +\S+", listed), listed
    assert re.search(r" 2 +What is an eigenvalue\? +2 messages +\S+", listed), listed

    terminal.type("/open 2")
    terminal.wait_for("chat: What is an eigenvalue?")
    opened = text_of(terminal.wait_for("notes.md \u00a7 "))
    assert "› What is an eigenvalue?" in opened
    assert "From your course material:" in opened
    terminal.type("/open 9")
    assert "no chat 9: /chats lists 2" in text_of(terminal.wait_for("lists 2"))

    terminal.type("/help")
    helped = text_of(terminal.wait_for("(so does end of input, Ctrl-D)"))
    for command in ("/new", "/chats", "/open N", "/stop", "/help", "/quit"):
        assert f"  {command} " in helped
    terminal.type("/what")
    assert "unknown command /what; /help lists the commands" in text_of(
        terminal.wait_for("lists the commands")
    )

    terminal.child.send("\x04")
    after = terminal.leave()
    # The terminal is handed back as it was: echo and line editing on again.
    assert re.search(r"(?<![-\w])icanon\b", after), after
    assert re.search(r"(?<![-\w])echo\b", after), after


def test_plain_forces_raw_text_even_at_a_terminal(
    library_server: ServerProcess, terminals: Callable[..., Terminal]
) -> None:
    terminal = terminals(library_server, "--plain")
    terminal.wait_for("/help for commands")
    terminal.type("What is an eigenvalue?")
    terminal.wait_for("notes.md \u00a7 ")
    terminal.child.sendeof()
    terminal.leave()
    assert terminal.child.exitstatus == 0
    assert "studymate: From your course material:\r\n\r\n- " in terminal.written
    assert not STYLE.search(terminal.written)
    assert "\x1b" not in terminal.written
