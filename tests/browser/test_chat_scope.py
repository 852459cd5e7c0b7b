"""Limiting a chat to part of the library from the panel: the chat header says what the chat
draws on, a folder is chosen there (in a new chat too, before its first question), and the
answers cite only that folder. The default offline assistant answers."""

from __future__ import annotations

import re
from typing import Any

from labpage import (
    PAGE_ERRORS,
    ask,
    assistant_messages,
    expect,
    open_panel,
    panel,
    shot,
)

from studymate_jupyter.pytest_plugin import ServerProcess


def long(text: str) -> str:
    """A section well over the chunker's 30-word minimum."""
    return " ".join([text] * 6)


FILES = {
    "physics/thermodynamics.md": "# Entropy\n\n"
    + long(
        "Entropy measures the disorder of a system and the second law says it never "
        "decreases. This discovery changed how engines were built."
    ),
    "history/printing.md": "# The printing press\n\n"
    + long(
        "The printing press of Gutenberg spread books across Europe. This invention "
        "changed how ideas travelled and how people learned."
    ),
}
#: Its words match both files.
QUESTION = "What changed with entropy and with the printing press?"


def cited_after_asking(page: Any, replies: int) -> list[str]:
    """Ask QUESTION; the citation chips of its answer, the chat's `replies`-th."""
    ask(page, QUESTION)
    expect(assistant_messages(page)).to_have_count(replies)
    reply = assistant_messages(page).last
    expect(reply).to_have_attribute("data-status", "complete")
    return [str(t) for t in reply.locator(".jp-StudyMate-chip").all_inner_texts()]


def test_a_chat_limited_to_a_folder_answers_only_from_that_folder(
    page: Any, lab: ServerProcess
) -> None:
    for path, text in FILES.items():
        (lab.root_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (lab.root_dir / path).write_text(text)
        lab.call("POST", "studymate/api/documents", {"path": path})
    open_panel(page)
    panel(page).get_by_role("tab", name="Library").click()
    expect(panel(page).locator(".jp-StudyMate-document[data-status='ready']")).to_have_count(2)
    panel(page).get_by_role("tab", name="Chats").click()
    # Back on the new chat the panel opened on.
    chat_view = panel(page).locator(".jp-StudyMate-chat")
    expect(chat_view).to_have_attribute("data-chat-id", re.compile("^draft:"))
    scope_label = panel(page).locator(".jp-StudyMate-scopeLabel")
    expect(scope_label).to_have_text("Whole library")

    # Over the whole library, the question finds both files.
    cited = " ".join(cited_after_asking(page, 1))
    assert "thermodynamics.md" in cited, cited
    assert "printing.md" in cited, cited

    scope_button = panel(page).get_by_role("button", name="Draws on: Whole library")
    scope_button.click()
    editor = panel(page).get_by_role("form", name="What this chat draws on")
    editor.get_by_role("radio", name="Folder").check()
    editor.get_by_role("combobox", name="Folder").select_option("physics")
    shot(page, "chat-scope-editor")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_have_count(0)
    expect(scope_label).to_have_text("Folder: physics")
    shot(page, "chat-scope-folder")

    chat_id = panel(page).locator(".jp-StudyMate-chat").get_attribute("data-chat-id")
    chat = lab.call("GET", f"studymate/api/chats/{chat_id}")
    assert chat["scope"] == {"folder": "physics", "document_ids": None}

    chips = cited_after_asking(page, 2)
    assert chips, "the scoped answer cites nothing"
    assert all("thermodynamics.md" in chip for chip in chips), chips

    # Another tab (here: a script) clears the scope: the chat_updated frame updates the header.
    lab.call("PATCH", f"studymate/api/chats/{chat_id}", {"scope": None})
    expect(scope_label).to_have_text("Whole library")


def test_a_chat_can_be_limited_to_chosen_documents(page: Any, lab: ServerProcess) -> None:
    panel(page).get_by_role("button", name="Draws on: Whole library").click()
    editor = panel(page).get_by_role("form", name="What this chat draws on")
    editor.get_by_role("radio", name="Chosen documents").check()
    save = editor.get_by_role("button", name="Save")
    expect(save).to_be_disabled()  # nothing chosen yet
    editor.get_by_role("checkbox", name="history/printing.md").check()
    save.click()
    expect(panel(page).locator(".jp-StudyMate-scopeLabel")).to_have_text("printing.md")
    chips = cited_after_asking(page, 3)
    assert chips, "the answer cites nothing"
    assert all("printing.md" in chip for chip in chips), chips


def test_a_new_chat_can_be_limited_to_a_folder_before_its_first_question(
    page: Any, lab: ServerProcess
) -> None:
    chats_before = lab.call("GET", "studymate/api/chats")["chats"]
    panel(page).get_by_role("button", name="All chats").click()
    panel(page).get_by_role("button", name="New chat").click()
    scope_button = panel(page).get_by_role("button", name="Draws on: Whole library")
    expect(scope_button).to_have_attribute("title", "Draws on: Whole library. Click to change.")
    scope_button.click()
    editor = panel(page).get_by_role("form", name="What this chat draws on")
    editor.get_by_role("radio", name="Folder").check()
    editor.get_by_role("combobox", name="Folder").select_option("physics")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_have_count(0)
    scope_label = panel(page).locator(".jp-StudyMate-scopeLabel")
    expect(scope_label).to_have_text("Folder: physics")
    shot(page, "new-chat-scope-folder")
    # Nothing is created on the server until the first question.
    chat_view = panel(page).locator(".jp-StudyMate-chat")
    expect(chat_view).to_have_attribute("data-chat-id", re.compile("^draft:"))
    assert lab.call("GET", "studymate/api/chats")["chats"] == chats_before

    chips = cited_after_asking(page, 1)
    assert chips, "the scoped answer cites nothing"
    assert all("thermodynamics.md" in chip for chip in chips), chips
    expect(scope_label).to_have_text("Folder: physics")
    chat_id = chat_view.get_attribute("data-chat-id")
    assert chat_id is not None
    assert not chat_id.startswith("draft:"), chat_id
    chat = lab.call("GET", f"studymate/api/chats/{chat_id}")
    assert chat["scope"] == {"folder": "physics", "document_ids": None}
    assert chat["title"] == QUESTION
    assert len(lab.call("GET", "studymate/api/chats")["chats"]) == len(chats_before) + 1


def test_the_panel_raised_no_uncaught_errors() -> None:
    assert [e for e in PAGE_ERRORS if "studymate-jupyter" in e] == []
