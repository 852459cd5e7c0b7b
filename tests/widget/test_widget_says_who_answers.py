"""The notebook widget says who answers, against real servers: the model behind an
OpenAI-compatible server by name, the offline assistant as such, and a warning with the
server's sentence why while the model cannot answer (from the start, or since a reply failed).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

from fake_llm import FakeLLM
from waiting import until
from widget_steps import panel_on

from studymate_jupyter import ChatPanel
from studymate_jupyter.pytest_plugin import ServerProcess, free_port

UNREACHABLE = "The model server could not be reached: is it running?"


@contextlib.asynccontextmanager
async def panel_on_server(tmp_path: Path, args: list[str]) -> AsyncIterator[ChatPanel]:
    """A widget on a real `jupyter server` started with `args`."""
    server = ServerProcess(tmp_path / "server", extra_args=args)
    await asyncio.to_thread(server.start)
    try:
        async with panel_on(server) as panel:
            yield panel
    finally:
        await asyncio.to_thread(server.stop)


def text_of(value: str) -> str:
    """What a user reads in an HTML widget's value."""
    return html.unescape(re.sub(r"<[^>]+>", "", value)).strip()


def visible(widget: object) -> bool:
    return widget.layout.display != "none"  # type: ignore[attr-defined]


def who_answers(panel: ChatPanel) -> str:
    """The line under the header, if shown."""
    line = panel.screen.assistant_line
    return text_of(line.value) if visible(line) else ""


def warning(panel: ChatPanel) -> str:
    """The warning under the header, if shown."""
    bar = panel.screen.assistant_bar
    return text_of(panel.screen.assistant_warning.value) if visible(bar) else ""


async def test_the_header_names_the_model_that_answers(tmp_path):
    llm = FakeLLM(["An answer."])
    try:
        async with panel_on_server(tmp_path, llm.args) as panel:
            await until(lambda: who_answers(panel), what="the line saying who answers")
            assert who_answers(panel) == "Answered by fake (OpenAI-compatible server)"
            assert warning(panel) == ""
    finally:
        llm.close()


async def test_an_unreachable_model_server_is_a_warning_saying_so(tmp_path):
    nobody = f"http://127.0.0.1:{free_port()}/v1"
    args = [
        "--StudyMate.assistant=openai",
        f"--OpenAIProvider.base_url={nobody}",
        "--OpenAIProvider.model=fake",
    ]
    async with panel_on_server(tmp_path, args) as panel:
        await until(lambda: warning(panel), what="the warning")
        assert warning(panel) == f"⚠ The language model fake cannot answer now. {UNREACHABLE}"
        assert who_answers(panel) == ""
        assert visible(panel.screen.check_assistant_button)
        # It says the same after checking again (the server is still not there).
        panel.screen.assistant_warning.value = ""
        panel.screen.check_assistant_button.click()
        await until(lambda: UNREACHABLE in warning(panel), what="the warning, again")


async def test_the_offline_assistant_is_said_to_answer_from_the_library(tmp_path):
    async with panel_on_server(tmp_path, []) as panel:
        await until(lambda: who_answers(panel), what="the line saying who answers")
        assert who_answers(panel) == "Answered offline from your library's passages"
        assert warning(panel) == ""


async def test_a_model_server_gone_mid_session_shows_once_a_reply_fails(tmp_path):
    llm = FakeLLM(["An answer."])
    try:
        async with panel_on_server(tmp_path, llm.args) as panel:
            first = await panel.send("What is a gradient?", timeout=30)
            assert first["status"] == "complete"
            assert who_answers(panel) == "Answered by fake (OpenAI-compatible server)"

            llm.close()  # the model server goes away; StudyMate's own server stays
            second = await panel.send("And momentum?", timeout=30)
            assert second["status"] == "error"
            await until(lambda: warning(panel), what="the warning after the failed reply")
            assert UNREACHABLE in warning(panel)
            assert who_answers(panel) == ""
    finally:
        llm.close()


async def test_a_model_name_with_markup_is_shown_as_text(tmp_path):
    hostile = "<img src=x onerror=alert(1)>"
    llm = FakeLLM(["An answer."])
    args = [a for a in llm.args if not a.startswith("--OpenAIProvider.model=")]
    try:
        async with panel_on_server(tmp_path, [*args, f"--OpenAIProvider.model={hostile}"]) as panel:
            # The model server lists no such model: the warning names it, twice.
            await until(lambda: warning(panel), what="the warning")
            assert warning(panel).count(hostile) == 2
            assert "<img" not in panel.screen.assistant_warning.value
    finally:
        llm.close()
