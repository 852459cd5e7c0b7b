"""What the panel tells a student about who answers, in real JupyterLab: the language model
behind an OpenAI-compatible server by name, beside Send; and, once that server is gone, a
warning in the chat with its reason (after a reply fails, and from the start next time)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from fake_llm import FakeLLM
from labpage import PAGE_ERRORS, ask, assert_readable, assistant_messages, expect, open_panel, shot
from labpage import panel as studymate

T = TypeVar("T")
NAMED = "Answered by fake (OpenAI-compatible server)"
WARNING = (
    "The language model fake cannot answer now. "
    "The model server could not be reached: is it running?"
)


class ModelServerThread:
    """The fake model server on a loop of its own: Playwright's sync API holds this thread's."""

    def __init__(self, pieces: list[str]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.llm = self.on_loop(lambda: FakeLLM(pieces))

    def on_loop(self, work: Callable[[], T]) -> T:
        async def run() -> T:
            return work()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def close(self) -> None:
        """Stop answering: the port and open connections closed, as when the model server
        is not running."""
        self.on_loop(self.llm.close)

    def stop(self) -> None:
        self.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def model_server() -> Iterator[ModelServerThread]:
    server = ModelServerThread(["Gradient descent ", "steps downhill."])
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def lab_extra_args(model_server: ModelServerThread) -> list[str]:
    return model_server.llm.args


def who_answers(page: Any) -> Any:
    """The hint beside Send."""
    return studymate(page).locator(".jp-StudyMate-composerBar .jp-StudyMate-hint")


def warning(page: Any) -> Any:
    return studymate(page).locator(".jp-StudyMate-assistantNotice")


def test_the_chat_names_the_model_that_answers(page: Any) -> None:
    open_panel(page)
    expect(who_answers(page)).to_have_text(NAMED)
    expect(warning(page)).to_have_count(0)
    ask(page, "What does gradient descent do?")
    expect(assistant_messages(page).last).to_have_attribute("data-status", "complete")
    expect(who_answers(page)).to_have_text(NAMED)
    assert_readable({"who answers": who_answers(page)})
    shot(page, "assistant-named")


def test_a_model_server_gone_mid_session_is_a_warning_once_a_reply_fails(
    page: Any, model_server: ModelServerThread
) -> None:
    model_server.close()
    ask(page, "And what is momentum?")
    expect(assistant_messages(page).last).to_have_attribute("data-status", "error")
    expect(warning(page)).to_have_count(1)
    expect(warning(page)).to_contain_text(WARNING)
    # The warning replaces the line: nothing claims the model answers now.
    expect(who_answers(page)).to_have_text("")
    # Above the conversation, where it is read before the next question.
    messages = studymate(page).locator(".jp-StudyMate-messages")
    assert warning(page).bounding_box()["y"] < messages.bounding_box()["y"]
    assert_readable({"warning": warning(page).locator("span")})
    shot(page, "assistant-unreachable")


def test_the_warning_shows_from_the_start_while_the_model_server_is_down(page: Any) -> None:
    page.reload()
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    open_panel(page)
    expect(warning(page)).to_contain_text(WARNING)
    # Checking again asks the server again, and it is still not there.
    with page.expect_response(lambda r: r.url.split("?")[0].endswith("/studymate/api/assistant")):
        warning(page).get_by_role("button", name="Check again").click()
    expect(warning(page)).to_contain_text(WARNING)
    shot(page, "assistant-unreachable-at-start")


def test_the_panel_raised_no_uncaught_errors() -> None:
    assert [e for e in PAGE_ERRORS if "studymate-jupyter" in e] == []
