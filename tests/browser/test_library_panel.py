"""The study library from JupyterLab: add a PDF from the file browser, watch it index, ask,
and follow the answer's citation to the cited page. The default offline assistant answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from labpage import (
    OPTICS_PAGES,
    PAGE_ERRORS,
    assistant_messages,
    expect,
    open_panel,
    panel,
    shot,
    text_pdf,
)

from studymate_jupyter.pytest_plugin import ServerProcess


@pytest.fixture(scope="module", autouse=True)
def user_settings(lab: ServerProcess) -> None:
    """The user turned on scores and Shift+Enter to send, before opening JupyterLab."""
    folder = lab.workdir / "config" / "lab" / "user-settings" / "studymate-jupyter"
    folder.mkdir(parents=True, exist_ok=True)
    settings = {"showScores": True, "sendWithShiftEnter": True}
    (folder / "plugin.jupyterlab-settings").write_text(json.dumps(settings))


def ask_with_shift_enter(page: Any, text: str) -> None:
    """This user sends with Shift+Enter (see `user_settings`)."""
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Shift+Enter")


def test_a_pdf_added_from_the_file_browser_is_indexed_live(page: Any, lab: ServerProcess) -> None:
    (lab.root_dir / "optics.pdf").write_bytes(text_pdf(OPTICS_PAGES))
    open_panel(page)
    panel(page).get_by_role("tab", name="Library").click()
    expect(panel(page).locator(".jp-StudyMate-document")).to_have_count(0)
    page.locator(".jp-FileBrowser").get_by_title("Refresh the file browser").first.click()
    page.locator('.jp-DirListing-item[title^="Name: optics.pdf"]').click(button="right")
    page.locator(".lm-Menu-item", has_text="Add to StudyMate library").click()
    document = panel(page).locator(".jp-StudyMate-document", has_text="optics.pdf")
    expect(document).to_have_count(1)
    # Ready arrives as a live `library` frame: nobody refreshes the list.
    expect(document).to_have_attribute("data-status", "ready")
    expect(document).to_contain_text("3 pages")
    shot(page, "library")


def test_an_answer_cites_the_page_and_the_citation_opens_it(page: Any) -> None:
    panel(page).get_by_role("tab", name="Chats").click()
    # Back on the new chat the panel opened on.
    chat_view = panel(page).locator(".jp-StudyMate-chat")
    expect(chat_view).to_have_attribute("data-chat-id", re.compile("^draft:"))
    box = page.get_by_role("textbox", name="Message")
    box.fill("What does Snell's law describe?")
    box.press("Enter")  # with sendWithShiftEnter, Enter is a new line
    expect(box).to_have_value("What does Snell's law describe?\n")
    box.press("Shift+Enter")
    expect(box).to_have_value("")
    reply = assistant_messages(page).last
    expect(reply).to_have_attribute("data-status", "complete")
    chip = reply.locator(".jp-StudyMate-chip").first
    expect(chip).to_have_text("[1] optics.pdf p.2")
    expect(chip).to_have_attribute("title", re.compile(r"score \d"))  # showScores is on
    chip.hover()
    expect(reply.locator(".jp-StudyMate-passage")).to_contain_text("law describes refraction")
    shot(page, "answer-with-citations")
    chip.click()
    viewer = page.frame_locator(".jp-PDFContainer:visible iframe").locator("object")
    expect(viewer).to_have_attribute("data", re.compile(r"#page=2$"))
    shot(page, "citation-opened-from-library")


def cell(cell_id: str, text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


def long(text: str) -> str:
    return " ".join([text] * 6)


NOTES = {
    "cells": [
        cell("intro", long("Waves carry energy from one place to another without matter.")),
        cell("speed", long("The speed of a wave is its frequency times its wavelength.")),
        cell("bending", long("Diffraction is the bending of waves around obstacles.")),
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}
HOSTILE_NAME = "<img src=x onerror=window.__pwned=9>.md"


def test_a_notebook_citation_opens_the_notebook_at_the_cited_cell(
    page: Any, lab: ServerProcess
) -> None:
    (lab.root_dir / "waves.ipynb").write_text(json.dumps(NOTES))
    lab.call("POST", "studymate/api/documents", {"path": "waves.ipynb"})
    panel(page).get_by_role("tab", name="Library").click()
    ready = panel(page).locator(".jp-StudyMate-document[data-status='ready']", has_text="waves")
    expect(ready).to_have_count(1)
    panel(page).get_by_role("tab", name="Chats").click()
    ask_with_shift_enter(page, "What is diffraction of waves around obstacles?")
    reply = assistant_messages(page).last
    expect(reply).to_have_attribute("data-status", "complete")
    chip = reply.locator(".jp-StudyMate-chip", has_text="waves.ipynb").first
    expect(chip).to_have_text(re.compile(r"waves\.ipynb p\.3$"))
    chip.click()
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(notebook.locator(".jp-Cell.jp-mod-active")).to_contain_text("Diffraction")
    shot(page, "notebook-citation")


def test_a_hostile_document_name_stays_text(page: Any, lab: ServerProcess) -> None:
    (lab.root_dir / HOSTILE_NAME).write_text(
        "# Interference\n\n" + long("Interference adds two waves into one pattern.") + "\n"
    )
    lab.call("POST", "studymate/api/documents", {"path": HOSTILE_NAME})
    panel(page).get_by_role("tab", name="Library").click()
    name = panel(page).locator(".jp-StudyMate-documentName", has_text="onerror")
    expect(name).to_have_text(HOSTILE_NAME)
    ready = panel(page).locator(".jp-StudyMate-document[data-status='ready']", has_text="onerror")
    expect(ready).to_have_count(1)
    assert panel(page).locator(".jp-StudyMate-library img").count() == 0
    panel(page).get_by_role("tab", name="Chats").click()
    ask_with_shift_enter(page, "How does interference add two waves?")
    reply = assistant_messages(page).last
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.locator(".jp-StudyMate-chip", has_text="onerror").first).to_contain_text(
        HOSTILE_NAME
    )
    assert reply.locator(".jp-StudyMate-citations img").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_a_document_can_be_removed_from_the_library(page: Any) -> None:
    panel(page).get_by_role("tab", name="Library").click()
    documents = panel(page).locator(".jp-StudyMate-document")
    expect(documents).to_have_count(3)
    panel(page).get_by_role("button", name="Remove optics.pdf").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Remove").click()
    expect(documents).to_have_count(2)
    expect(documents.filter(has_text="optics.pdf")).to_have_count(0)


def test_the_panel_raised_no_uncaught_errors() -> None:
    assert [e for e in PAGE_ERRORS if "studymate-jupyter" in e] == []
