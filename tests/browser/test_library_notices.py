"""What the Library tab and the chips tell a user about the library: the notice of a ranking
signal the server lacks (shown once, at the top), and a Markdown citation named by its
section, whose preview is headed by it and which still opens the file."""

from __future__ import annotations

from typing import Any

import pytest
from custom_parts import MISSING_SIGNAL_NOTICE
from labpage import PAGE_ERRORS, ask, assistant_messages, expect, open_panel, panel, shot
from library_calls import NUMBERS_MARKDOWN

from studymate_jupyter.pytest_plugin import ServerProcess


@pytest.fixture(scope="module")
def lab_extra_args() -> list[str]:
    # BM25 ranking that says what it lacks, as the hybrid retriever does without MiniLM.
    return ["--StudyMate.retriever=custom_parts:ShortOfSignals"]


def test_the_library_tab_tells_once_what_ranking_lacks(page: Any, lab: ServerProcess) -> None:
    (lab.root_dir / "numbers.md").write_text(NUMBERS_MARKDOWN)
    lab.call("POST", "studymate/api/documents", {"path": "numbers.md"})
    open_panel(page)
    panel(page).get_by_role("tab", name="Library").click()
    ready = panel(page).locator(".jp-StudyMate-document[data-status='ready']", has_text="numbers")
    expect(ready).to_have_count(1)
    notice = panel(page).locator(".jp-StudyMate-retrievalNotice")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text(MISSING_SIGNAL_NOTICE)
    # Above the list, not repeated per document; this retriever computes no vectors.
    assert notice.bounding_box()["y"] < ready.bounding_box()["y"]
    expect(ready).not_to_contain_text("vectors")
    shot(page, "library-retrieval-notice")


def test_a_markdown_citation_is_named_by_its_section_and_opens_the_file(page: Any) -> None:
    panel(page).get_by_role("tab", name="Chats").click()
    ask(page, "Which numbers divide twelve without remainder?")
    reply = assistant_messages(page).last
    expect(reply).to_have_attribute("data-status", "complete")
    chip = reply.locator(".jp-StudyMate-chip", has_text="numbers.md").first
    expect(chip).to_have_text("[1] numbers.md \u00a7 Factors")
    expect(chip).to_have_attribute("title", "numbers.md, \u00a7 Factors")
    chip.hover()
    preview = reply.locator(".jp-StudyMate-passage")
    expect(preview.locator(".jp-StudyMate-passageHeading")).to_have_text("Factors")
    expect(preview).to_contain_text("divides it without remainder")
    shot(page, "section-citation")
    chip.click()
    viewer = page.locator(".jp-MarkdownViewer:visible")
    expect(viewer.locator("h1", has_text="Factors")).to_be_visible()
    expect(page.locator(".lm-TabBar-tab.jp-mod-current", has_text="numbers.md")).to_have_count(1)
    shot(page, "section-citation-opened")


def test_the_notice_once_dismissed_stays_away(page: Any) -> None:
    panel(page).get_by_role("tab", name="Library").click()
    notice = panel(page).locator(".jp-StudyMate-retrievalNotice")
    notice.get_by_role("button", name="Dismiss").click()
    expect(notice).to_have_count(0)
    panel(page).get_by_role("tab", name="Chats").click()
    panel(page).get_by_role("tab", name="Library").click()
    expect(panel(page).locator(".jp-StudyMate-document")).to_have_count(1)
    expect(notice).to_have_count(0)


def test_the_panel_raised_no_uncaught_errors() -> None:
    assert [e for e in PAGE_ERRORS if "studymate-jupyter" in e] == []
