"""The StudyMate panel in a real JupyterLab, driven through headless Debian Chromium.

One JupyterLab subprocess and one browser page for the module; the tests run in order and
read as what a user does: open the panel, ask, watch the answer stream, stop a reply, see a
hostile message stay inert, lose the server and get it back. Screenshots of the key states
go to `test-artifacts/`.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from labpage import (
    PAGE_ERRORS,
    ask,
    assistant_messages,
    connection,
    expect,
    open_in_file_browser,
    open_panel,
    panel,
    shot,
    text_pdf,
)

from studymate_jupyter.pytest_plugin import ServerProcess


@pytest.fixture(scope="module")
def lab_extra_args() -> list[str]:
    # A slow scripted reply: long enough to watch it stream and to stop it.
    return ["--StudyMate.assistant=scripted_assistant:ScriptedAssistant"]


def test_open_studymate_from_the_command_palette(page: Any) -> None:
    open_panel(page)
    # The panel lives in the right sidebar.
    assert page.locator("#jp-right-stack .jp-StudyMate").count() == 1


def test_a_question_gets_an_answer_streamed_in_place(page: Any) -> None:
    # The panel opened on a new chat: the question goes straight in.
    chat = panel(page).locator(".jp-StudyMate-chat")
    expect(chat).to_have_attribute("data-chat-id", re.compile("^draft:"))
    ask(page, "What does gradient descent do?")
    streaming = panel(page).locator(".jp-StudyMate-message-assistant[data-status='streaming']")
    expect(streaming).to_have_count(1)
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    expect(panel(page).locator(".jp-StudyMate-typing")).to_contain_text("typing")
    shot(page, "streaming")
    reply = assistant_messages(page).last
    expect(reply).to_have_attribute("data-status", "complete")
    # One reply, rendered as Markdown, grown in place (not one message per frame).
    assert assistant_messages(page).count() == 1
    expect(reply.locator("strong")).to_have_text("downhill")
    expect(reply.locator("pre")).to_contain_text("learning_rate")
    expect(reply.get_by_role("button", name="Insert into notebook")).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    chip = reply.locator(".jp-StudyMate-chip")
    expect(chip).to_have_text("[1] lecture.pdf p.3\u20134")
    # Scores are off by default.
    assert "score" not in (chip.get_attribute("title") or "")
    # The user's own message is shown once, acknowledged by the server.
    user = panel(page).locator(".jp-StudyMate-message-user")
    expect(user).to_have_count(1)
    expect(user.locator(".jp-StudyMate-badge")).to_have_count(0)
    shot(page, "answered")


def test_stop_ends_the_reply_and_keeps_what_was_said(page: Any) -> None:
    ask(page, "Tell me more.")
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    time.sleep(0.4)
    stop.click()
    reply = assistant_messages(page).nth(1)
    expect(reply).to_have_attribute("data-status", "stopped")
    expect(reply.locator(".jp-StudyMate-badge")).to_have_text("stopped")
    assert reply.inner_text().strip() != ""


HOSTILE = (
    '<img src=x onerror="window.__pwned = 1">\n\n'
    "<script>window.__pwned = 2</script>\n\n"
    '<button data-commandlinker-command="help:about">About</button>\n\n'
    "[click me](javascript:window.__pwned=3)\n\n"
    '<a href="#" onclick="window.__pwned = 4">anchor</a> hostile-marker'
)


def test_a_hostile_message_is_rendered_inert(page: Any) -> None:
    ask(page, HOSTILE)
    message = panel(page).locator(".jp-StudyMate-message-user").filter(has_text="hostile-marker")
    expect(message).to_have_count(1)
    expect(message).not_to_have_class(re.compile("jp-mod-pending"))
    assert message.locator("script").count() == 0
    for img in message.locator("img").all():
        assert img.get_attribute("onerror") is None
    assert message.locator("[data-commandlinker-command]").count() == 0
    assert message.locator("[onclick]").count() == 0
    for link in message.locator("a").all():
        href = link.get_attribute("href") or ""
        assert not href.lower().startswith("javascript:")
    # Clicking whatever is there does nothing: no script runs, no JupyterLab command.
    for clickable in message.locator("button:not(.jp-StudyMate-iconButton), a").all():
        clickable.click()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".jp-Dialog").count() == 0  # help:about would open a dialog
    assert len(page.context.pages) == 1  # nothing opened a tab either
    shot(page, "hostile")
    expect(assistant_messages(page).last).to_have_attribute("data-status", "complete")


def test_a_failed_reply_offers_retry_which_asks_again(page: Any) -> None:
    ask(page, "Please fail once, then answer.")
    failed = assistant_messages(page).last
    expect(failed).to_have_attribute("data-status", "error")
    retry = failed.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    shot(page, "error")
    retry.click()
    expect(assistant_messages(page).last).to_have_attribute("data-status", "complete")
    expect(assistant_messages(page).last).to_contain_text("downhill")
    # The question was asked again as a new message; the failed reply stays as it was.
    asked = panel(page).locator(".jp-StudyMate-message-user", has_text="Please fail once")
    expect(asked).to_have_count(2)


def test_after_a_server_restart_the_panel_reconnects_and_keeps_the_history(
    page: Any, lab: ServerProcess
) -> None:
    before = panel(page).locator(".jp-StudyMate-message").count()
    lab.stop()
    expect(connection(page)).not_to_have_attribute("data-state", "connected")
    # Typed while the server is down: queued, and sent once it is back.
    ask(page, "Asked while offline")
    user_messages = panel(page).locator(".jp-StudyMate-message-user")
    queued = user_messages.filter(has_text="Asked while offline")
    expect(queued.locator(".jp-StudyMate-badge")).to_have_text("queued")
    shot(page, "offline")
    lab.start(timeout=90)
    expect(connection(page)).to_have_attribute("data-state", "connected", timeout=60_000)
    expect(queued.locator(".jp-StudyMate-badge")).to_have_count(0)
    expect(assistant_messages(page).last).to_have_attribute("data-status", "complete")
    # Everything from before the restart is still there, plus the question and its answer.
    expect(panel(page).locator(".jp-StudyMate-message")).to_have_count(before + 2)
    expect(queued).to_have_count(1)
    # The server stored the queued message exactly once.
    chat_id = panel(page).locator(".jp-StudyMate-chat").get_attribute("data-chat-id")
    stored = lab.get(f"studymate/api/chats/{chat_id}/messages?limit=500")["messages"]
    assert [m["content"] for m in stored].count("Asked while offline") == 1
    shot(page, "reconnected")


COMM_CELL = (
    "from comm import create_comm\n"
    "create_comm(target_name='studymate', data={'action': 'open_citation', "
    "'path': 'lecture.pdf', 'page': 2, 'anchor': None})"
)


def notebook_json(source: str) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": "first-cell",
                    "metadata": {},
                    "outputs": [],
                    "source": source,
                }
            ],
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_code_from_an_answer_goes_into_the_active_notebook(page: Any, lab: ServerProcess) -> None:
    (lab.root_dir / "lecture.pdf").write_bytes(
        text_pdf([["Introduction"], ["Gradient descent"], ["Learning rates"]])
    )
    (lab.root_dir / "comm.ipynb").write_text(notebook_json(COMM_CELL))
    open_in_file_browser(page, "comm.ipynb")
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(notebook.locator(".jp-Cell")).to_have_count(1)
    notebook.locator(".jp-Cell").first.click()
    first_answer = assistant_messages(page).first
    first_answer.get_by_role("button", name="Insert into notebook").click()
    expect(notebook.locator(".jp-Cell")).to_have_count(2)
    expect(notebook.locator(".jp-Cell").nth(1)).to_contain_text("step = learning_rate * gradient")


def test_a_notebook_comm_opens_a_pdf_at_its_page(page: Any) -> None:
    notebook = page.locator(".jp-NotebookPanel:visible")
    idle = notebook.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    expect(idle).to_have_count(1, timeout=60_000)
    notebook.locator(".jp-Cell").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    pdf = page.locator(".jp-PDFContainer:visible iframe")
    expect(pdf).to_have_count(1)
    viewer = page.frame_locator(".jp-PDFContainer:visible iframe").locator("object")
    expect(viewer).to_have_attribute("data", re.compile(r"#page=2$"))
    shot(page, "pdf-from-comm")


def test_clicking_a_citation_opens_the_pdf_at_the_cited_page(page: Any) -> None:
    chip = assistant_messages(page).first.locator(".jp-StudyMate-chip")
    chip.click()
    viewer = page.frame_locator(".jp-PDFContainer:visible iframe").locator("object")
    expect(viewer).to_have_attribute("data", re.compile(r"#page=3$"))
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text="lecture.pdf")
    expect(tab).to_have_count(1)
    shot(page, "citation-opened")


def test_a_chat_exports_as_a_notebook_and_as_markdown(page: Any, lab: ServerProcess) -> None:
    panel(page).get_by_role("button", name="Open as notebook").click()
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="StudyMate - ")
    expect(tab).to_have_count(1)
    exported = list(lab.root_dir.glob("StudyMate - *.ipynb"))
    assert len(exported) == 1
    shot(page, "exported-notebook")
    with page.expect_download() as download:
        panel(page).get_by_role("button", name="Export as Markdown").click()
    assert download.value.suggested_filename.endswith(".md")
    text = Path(download.value.path()).read_text()
    assert "gradient descent" in text.lower()


def test_chats_can_be_renamed_and_deleted_from_the_list(page: Any) -> None:
    panel(page).get_by_role("button", name="All chats").click()
    items = panel(page).locator(".jp-StudyMate-chatItem")
    expect(items).to_have_count(1)
    shot(page, "chats")
    items.first.get_by_role("button", name=re.compile("^Rename")).click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill("Optimisation notes")
    dialog.get_by_role("button", name="Rename").click()
    expect(items.first.locator(".jp-StudyMate-chatName")).to_have_text("Optimisation notes")
    items.first.get_by_role("button", name=re.compile("^Delete")).click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(items).to_have_count(0)


def test_the_panel_raised_no_uncaught_errors() -> None:
    # Only ours: jupyterlab-manager (ipywidgets) throws on a notebook opened without a kernel.
    ours = [e for e in PAGE_ERRORS if "studymate-jupyter" in e]
    assert ours == []
