"""The panel's first view, in JupyterLab's dark theme: it opens on a new chat that takes a
question straight away, the chat list is one click away and coming back reopens the chat,
and an empty library says so and takes files from a picker over the Jupyter file tree or
dropped from the file browser. The default offline assistant answers.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from labpage import (
    LAB_OVERRIDES,
    OPTICS_PAGES,
    PAGE_ERRORS,
    assert_readable,
    assistant_messages,
    connection,
    expect,
    open_panel,
    panel,
    shot,
    text_pdf,
)

from studymate_jupyter.pytest_plugin import ServerProcess


@pytest.fixture(scope="module")
def lab_overrides() -> dict[str, Any]:
    return {**LAB_OVERRIDES, "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}


def long(text: str) -> str:
    """A section well over the chunker's 30-word minimum."""
    return " ".join([text] * 6)


def markdown_cell(cell_id: str, text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


WAVES = {
    "cells": [
        markdown_cell("intro", "# Waves\n\n" + long("Waves carry energy without carrying matter.")),
        markdown_cell(
            "bending", long("Diffraction is the bending of waves around obstacles and slits.")
        ),
    ],
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}
NOTES = "# Interference\n\n" + long("Interference adds two waves into one pattern of fringes.")
LENSES = "# Lenses\n\n" + long("A converging lens bends light so that parallel rays meet.")


def composer(page: Any) -> Any:
    return panel(page).get_by_role("textbox", name="Message")


def chat_view(page: Any) -> Any:
    return panel(page).locator(".jp-StudyMate-chat")


def empty_library_notice(page: Any) -> Any:
    return panel(page).get_by_role("note", name="Your library is empty")


def added(page: Any) -> Any:
    return panel(page).get_by_role("list", name="Added to your library").locator("li")


def wait_until_indexed(lab: ServerProcess, document_id: str) -> None:
    deadline = time.monotonic() + 30
    while lab.get(f"studymate/api/documents/{document_id}")["status"] != "ready":
        assert time.monotonic() < deadline, "the document was not indexed within 30 s"
        time.sleep(0.2)


def test_the_panel_opens_on_a_new_chat_that_takes_a_question_at_once(
    page: Any, lab: ServerProcess
) -> None:
    (lab.root_dir / "optics.pdf").write_bytes(text_pdf(OPTICS_PAGES))
    document = lab.call("POST", "studymate/api/documents", {"path": "optics.pdf"})
    wait_until_indexed(lab, document["id"])
    open_panel(page)
    # No chat list to get past: a new chat, the keyboard already in its message box.
    expect(chat_view(page)).to_have_attribute("data-chat-id", re.compile("^draft:"))
    expect(panel(page).locator(".jp-StudyMate-chatList")).to_have_count(0)
    expect(composer(page)).to_be_focused()
    expect(empty_library_notice(page)).to_have_count(0)  # there is a document
    assert_readable(
        {
            "tab": panel(page).get_by_role("tab", name="Chats"),
            "chat title": panel(page).locator(".jp-StudyMate-chatTitle"),
            "what to ask": panel(page).locator(".jp-StudyMate-intro .jp-StudyMate-empty"),
        }
    )
    shot(page, "first-view")

    page.keyboard.type("What does Snell's law describe?")
    page.keyboard.press("Enter")
    reply = assistant_messages(page).last
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.locator(".jp-StudyMate-chip").first).to_have_text("[1] optics.pdf p.2")
    expect(reply).to_contain_text("law describes refraction")
    # The question made the chat, named after it.
    expect(chat_view(page)).not_to_have_attribute("data-chat-id", re.compile("^draft:"))
    chats = lab.call("GET", "studymate/api/chats")["chats"]
    assert [c["title"] for c in chats] == ["What does Snell's law describe?"]
    assert chat_view(page).get_attribute("data-chat-id") == chats[0]["id"]


#: Where the panel keeps the chat it shows in JupyterLab's state database (the workspace).
PANEL_STATE = "studymate-jupyter:plugin:panel"


def wait_for_saved_workspace(lab: ServerProcess, saved: Any) -> None:
    """Wait until the workspace JupyterLab saved on the server satisfies `saved(data)`."""
    deadline = time.monotonic() + 30
    while True:
        workspaces = lab.get("lab/api/workspaces")["workspaces"]["values"]
        if any(saved(w.get("data", {})) for w in workspaces):
            return
        assert time.monotonic() < deadline, f"not saved within 30 s: {workspaces}"
        time.sleep(0.2)


def test_the_chat_list_is_one_click_away_and_a_reload_reopens_the_chat(
    page: Any, lab: ServerProcess
) -> None:
    chat_id = chat_view(page).get_attribute("data-chat-id")
    panel(page).get_by_role("button", name="All chats").click()
    items = panel(page).locator(".jp-StudyMate-chatItem")
    expect(items).to_have_count(1)
    items.first.locator(".jp-StudyMate-chatOpen").click()
    expect(chat_view(page)).to_have_attribute("data-chat-id", chat_id)

    # JupyterLab keeps the panel's state in the workspace, saved a moment after it changes.
    wait_for_saved_workspace(lab, lambda data: chat_id in json.dumps(data.get(PANEL_STATE)))
    page.reload()
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    # JupyterLab restores the open panel; the panel reopens the chat the user was in.
    expect(panel(page)).to_be_visible(timeout=60_000)
    expect(connection(page)).to_have_attribute("data-state", "connected")
    expect(chat_view(page)).to_have_attribute("data-chat-id", chat_id)
    expect(assistant_messages(page)).to_have_count(1)
    expect(assistant_messages(page).first.locator(".jp-StudyMate-chip").first).to_have_text(
        "[1] optics.pdf p.2"
    )


def test_an_empty_library_says_so_and_takes_files_from_the_picker(
    page: Any, lab: ServerProcess
) -> None:
    (lab.root_dir / "waves.ipynb").write_text(json.dumps(WAVES))
    (lab.root_dir / "notes.md").write_text(NOTES)
    (lab.root_dir / "script.py").write_text("print('not course material')\n")
    for document in lab.call("GET", "studymate/api/documents")["documents"]:
        lab.call("DELETE", f"studymate/api/documents/{document['id']}")
    # The chat on screen has its conversation; a new chat is where the notice shows.
    expect(empty_library_notice(page)).to_have_count(0)
    panel(page).get_by_role("button", name="New chat").click()
    notice = empty_library_notice(page)
    expect(notice).to_contain_text("Your library is empty")
    expect(composer(page)).to_be_focused()
    assert_readable(
        {
            "notice": notice.locator("p"),
            "notice hint": notice.locator(".jp-StudyMate-hint"),
            "Add files": notice.get_by_role("button", name="Add files\u2026"),
        }
    )
    shot(page, "empty-library")

    notice.get_by_role("button", name="Add files\u2026").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Add files to the StudyMate library")
    listing = dialog.locator(".jp-DirListing-item")
    expect(listing.filter(has_text="notes.md")).to_have_count(1)
    # Only what the library takes is offered.
    expect(listing.filter(has_text="script.py")).to_have_count(0)
    listing.filter(has_text="notes.md").click()
    listing.filter(has_text="waves.ipynb").click(modifiers=["Control"])
    shot(page, "add-files-dialog")
    dialog.get_by_role("button", name="Select").click()
    expect(dialog).to_have_count(0)

    expect(added(page)).to_have_count(2)
    expect(notice).to_have_count(0)
    # A note is counted in sections, a notebook in cells.
    for name, units in (("notes.md", "sections?"), ("waves.ipynb", "cells?")):
        item = added(page).filter(has_text=name)
        expect(item).to_have_attribute("data-status", "ready")
        expect(item).to_contain_text(re.compile(rf"ready · \d+ {units} · \d+ passages?"))
    paths = sorted(d["path"] for d in lab.call("GET", "studymate/api/documents")["documents"])
    assert paths == ["notes.md", "waves.ipynb"]
    assert_readable(
        {
            "caption": panel(page).locator(".jp-StudyMate-addedCaption"),
            "name": added(page).locator(".jp-StudyMate-documentName"),
            "status": added(page).locator(".jp-StudyMate-status"),
        }
    )
    shot(page, "files-added")


def drag_onto_panel(page: Any, name: str) -> None:
    """Drag the file browser's item `name` onto the StudyMate panel, as a user does."""
    page.locator(".jp-FileBrowser").get_by_title("Refresh the file browser").first.click()
    item = page.locator(f'.jp-FileBrowser .jp-DirListing-item[title^="Name: {name}"]')
    box = item.bounding_box()
    target = panel(page).locator(".jp-StudyMate-messages").bounding_box()
    assert box is not None
    assert target is not None
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    # Past the file browser's drag threshold, then across to the panel.
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] / 2, steps=5)
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 40, steps=20)
    expect(panel(page)).to_have_class(re.compile("jp-mod-dropTarget"))
    shot(page, f"drop-{name}")
    page.mouse.up()
    expect(panel(page)).not_to_have_class(re.compile("jp-mod-dropTarget"))


def test_a_file_dragged_from_the_file_browser_onto_the_panel_joins_the_library(
    page: Any, lab: ServerProcess
) -> None:
    (lab.root_dir / "lenses.md").write_text(LENSES)
    drag_onto_panel(page, "lenses.md")
    item = added(page).filter(has_text="lenses.md")
    expect(item).to_have_attribute("data-status", "ready")
    documents = lab.call("GET", "studymate/api/documents")["documents"]
    assert "lenses.md" in [d["path"] for d in documents]

    # What the library cannot take is named, and nothing is added.
    drag_onto_panel(page, "script.py")
    expect(panel(page).locator(".jp-StudyMate-notice")).to_contain_text("Not added: script.py")
    panel(page).locator(".jp-StudyMate-notice").get_by_role("button", name="Dismiss").click()
    expect(added(page)).to_have_count(3)


def test_in_the_dark_theme_an_answer_and_its_citations_read_well(
    page: Any, lab: ServerProcess
) -> None:
    assert page.evaluate("document.body.dataset.jpThemeLight") == "false"
    # A wider panel, as a user reading answers beside a notebook sets it.
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").last
    box = handle.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 140, box["y"] + box["height"] / 2, steps=10)
    page.mouse.up()
    composer(page).fill("What is diffraction, and how does a lens bend light?")
    composer(page).press("Enter")
    reply = assistant_messages(page).last
    expect(reply).to_have_attribute("data-status", "complete")
    chips = reply.locator(".jp-StudyMate-chip")
    expect(chips.filter(has_text="waves.ipynb")).to_have_count(1)
    expect(chips.filter(has_text="lenses.md")).to_have_count(1)
    # Open the cited notebook cell beside the chat, as the README's picture shows it.
    chips.filter(has_text="waves.ipynb").click()
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(notebook.locator(".jp-Cell.jp-mod-active")).to_contain_text("Diffraction")
    page.mouse.move(0, 0)  # off the chip: read as it sits, not hovered
    composer(page).fill("Next question")  # Send as it reads while typing (not disabled)
    assert_readable(
        {
            "answer": reply.locator(".jp-RenderedMarkdown li"),
            "citation chip": chips,
            "role label": reply.locator(".jp-StudyMate-role"),
            "question": panel(page).locator(".jp-StudyMate-message-user p"),
            "chat title": panel(page).locator(".jp-StudyMate-chatTitle"),
            "scope caption": panel(page).locator(".jp-StudyMate-scopeCaption"),
            "Send": panel(page).get_by_role("button", name="Send"),
            "connection": connection(page),
        }
    )
    composer(page).fill("")
    shot(page, "dark-theme")


def test_the_panel_raised_no_uncaught_errors() -> None:
    assert [e for e in PAGE_ERRORS if "studymate-jupyter" in e] == []
