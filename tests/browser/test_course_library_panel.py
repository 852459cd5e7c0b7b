"""The course library from JupyterLab: an instructor adds a course PDF from the file browser
and notes with "Add to course…", and sees the PDF cited with the "course" mark; then a
student's server on the same database, where the files are not: the course documents are
listed read-only, the file browser offers no course command, and the citation shows the
stored passage instead of opening the file."""

from __future__ import annotations

import re
from typing import Any

import pytest
from labpage import (
    PAGE_ERRORS,
    ask,
    assert_readable,
    assistant_messages,
    connection,
    expect,
    open_panel,
    page_of,
    panel,
    shot,
    text_pdf,
)

from studymate_jupyter.pytest_plugin import ServerProcess

INSTRUCTOR = "alice"
STUDENT = "bob"
COURSE_PDF = "thermo-syllabus.pdf"
COURSE_NOTES = "heat-capacity.md"
#: A two-page course PDF: the second law on page 2.
THERMO_PAGES = [
    page_of("the course", ["Thermodynamics, the course outline.", "Heat, work and energy."]),
    page_of(
        "entropy",
        [
            "The second law of thermodynamics says the entropy of an isolated system never "
            "decreases.",
            "Heat flows by itself only from a hotter body to a colder one.",
        ],
    ),
]
HEAT_NOTES = "# Heat capacity\n\n" + " ".join(
    ["The heat capacity of a body is the heat it takes to warm it by one kelvin."] * 5
)
QUESTION = "What does the second law of thermodynamics say about entropy?"
NOT_IN_FILES = (
    "This file is not in your Jupyter files (it is in the course library); the passage is "
    "shown below."
)


@pytest.fixture(scope="module")
def lab_extra_args() -> list[str]:
    return [f"--StudyMate.owner_id={INSTRUCTOR}", f"--StudyMate.instructors={INSTRUCTOR}"]


def course_section(page: Any) -> Any:
    return panel(page).get_by_role("region", name="Course library")


def own_section(page: Any) -> Any:
    return panel(page).get_by_role("region", name="My documents")


def file_menu(page: Any, name: str) -> Any:
    """Right-click a file in the file browser; the context menu that opens."""
    page.locator(".jp-FileBrowser").get_by_title("Refresh the file browser").first.click()
    page.locator(f'.jp-DirListing-item[title^="Name: {name}"]').click(button="right")
    menu = page.locator(".lm-Menu").last
    expect(menu).to_be_visible()
    return menu


def test_an_instructor_adds_a_course_pdf_from_the_file_browser(
    page: Any, lab: ServerProcess
) -> None:
    (lab.root_dir / COURSE_PDF).write_bytes(text_pdf(THERMO_PAGES))
    open_panel(page)
    panel(page).get_by_role("tab", name="Library").click()
    # Asked of GET me: this user is an instructor, so the tab offers the course too.
    expect(panel(page).get_by_role("button", name="Add to course\u2026")).to_be_visible()
    expect(course_section(page)).to_contain_text("Nothing in the course library yet")
    file_menu(page, COURSE_PDF).locator(
        ".lm-Menu-item", has_text="Add to StudyMate course library"
    ).click()
    document = course_section(page).locator(".jp-StudyMate-document", has_text=COURSE_PDF)
    expect(document).to_have_attribute("data-status", "ready")
    expect(document).to_have_attribute("data-library", "course")
    expect(document).to_contain_text("2 pages")
    expect(document.get_by_role("button", name=f"Remove {COURSE_PDF}")).to_be_visible()
    expect(own_section(page).locator(".jp-StudyMate-document")).to_have_count(0)
    shot(page, "course-library-instructor")


def test_an_instructor_adds_course_notes_with_add_to_course(page: Any, lab: ServerProcess) -> None:
    (lab.root_dir / COURSE_NOTES).write_text(HEAT_NOTES)
    panel(page).get_by_role("button", name="Add to course\u2026").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Add files to the StudyMate course library")
    dialog.locator(".jp-DirListing-item").filter(has_text=COURSE_NOTES).click()
    dialog.get_by_role("button", name="Select").click()
    expect(dialog).to_have_count(0)
    document = course_section(page).locator(".jp-StudyMate-document", has_text=COURSE_NOTES)
    expect(document).to_have_attribute("data-status", "ready")
    expect(own_section(page).locator(".jp-StudyMate-document")).to_have_count(0)
    listed = lab.call("GET", "studymate/api/documents")["documents"]
    assert {d["path"]: d["library"] for d in listed} == {
        COURSE_PDF: "course",
        COURSE_NOTES: "course",
    }
    shot(page, "course-added-with-the-picker")


def course_citation_of_the_answer(page: Any) -> Any:
    """Ask QUESTION in the Chats tab; the citation of COURSE_PDF in the complete answer."""
    panel(page).get_by_role("tab", name="Chats").click()
    ask(page, QUESTION)
    reply = assistant_messages(page).last
    expect(reply).to_have_attribute("data-status", "complete")
    return reply.locator(".jp-StudyMate-citation", has_text=COURSE_PDF).first


def test_the_answer_cites_the_course_document_with_the_course_mark(page: Any) -> None:
    citation = course_citation_of_the_answer(page)
    expect(citation.locator(".jp-StudyMate-chip")).to_have_text(f"[1] {COURSE_PDF} p.2")
    mark = citation.get_by_role("img", name="From the course library")
    expect(mark).to_have_text("course")
    expect(mark).to_have_attribute("title", "From the course library")
    shot(page, "course-citation-instructor")


def test_a_student_on_the_same_database_reads_the_course_document_without_its_file(
    page: Any, lab: ServerProcess
) -> None:
    lab.stop()
    # The student's server: the same SQLite file (ServerProcess keeps its db_url), another
    # owner, no instructors, and a root without the instructor's file.
    lab.extra_args = [
        *(a for a in lab.extra_args if not a.startswith("--StudyMate.")),
        f"--StudyMate.owner_id={STUDENT}",
        f"--StudyMate.db_url=sqlite:///{lab.db_path}",
    ]
    (lab.root_dir / COURSE_PDF).unlink()
    (lab.root_dir / COURSE_NOTES).unlink()
    (lab.root_dir / "my-notes.md").write_text("# My notes\n\nNothing about entropy yet.\n")
    lab.start(timeout=90)
    assert lab.get("studymate/api/me")["instructor"] is False
    page.goto(f"{lab.url}lab?token={lab.token}")
    open_panel(page)
    expect(connection(page)).to_have_attribute("data-state", "connected")
    panel(page).get_by_role("tab", name="Library").click()
    document = course_section(page).locator(".jp-StudyMate-document", has_text=COURSE_PDF)
    expect(document).to_have_attribute("data-status", "ready")
    expect(course_section(page).locator(".jp-StudyMate-document")).to_have_count(2)
    # Read-only: no re-index, no remove, on any course document.
    expect(course_section(page).get_by_role("button")).to_have_count(0)
    expect(own_section(page)).to_contain_text("None of your own yet")
    expect(panel(page).get_by_role("button", name="Add to course\u2026")).to_have_count(0)
    expect(panel(page).get_by_role("button", name="Add files\u2026")).to_be_visible()
    shot(page, "course-library-student")


def test_the_student_is_not_offered_the_course_command_in_the_file_browser(page: Any) -> None:
    menu = file_menu(page, "my-notes.md")
    expect(menu.locator(".lm-Menu-item", has_text="Add to StudyMate library")).to_be_visible()
    # Lumino keeps a command that is not visible in the menu's DOM, hidden.
    expect(menu.locator(".lm-Menu-item", has_text="course library")).to_be_hidden()
    shot(page, "course-command-absent-for-student")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()


def test_the_student_opening_the_course_citation_sees_the_passage_instead(page: Any) -> None:
    citation = course_citation_of_the_answer(page)
    expect(citation.get_by_role("img", name="From the course library")).to_be_visible()
    tabs_before = page.locator(".jp-MainAreaWidget").count()
    citation.locator(".jp-StudyMate-chip").click()
    passage = citation.locator(".jp-StudyMate-passage")
    expect(passage.get_by_role("status")).to_have_text(NOT_IN_FILES)
    expect(passage).to_contain_text("entropy of an isolated system never decreases")
    expect(passage).not_to_have_class(re.compile("jp-mod-floating"))  # it stays open
    # Nothing tried to open the missing file: no viewer, no error dialog.
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    assert page.locator(".jp-MainAreaWidget").count() == tabs_before
    assert_readable(
        {
            "not-in-files note": passage.get_by_role("status"),
            "course mark": citation.get_by_role("img", name="From the course library"),
        }
    )
    shot(page, "course-citation-student")


def test_in_the_dark_theme_the_course_mark_and_the_note_read_well(page: Any) -> None:
    page.get_by_role("menuitem", name="Settings").click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Theme$")).hover()
    page.get_by_role("menuitem", name="JupyterLab Dark", exact=True).click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    citation = assistant_messages(page).last.locator(".jp-StudyMate-citation").first
    page.mouse.move(0, 0)  # off the chip: read as it sits, not hovered
    assert_readable(
        {
            "not-in-files note": citation.locator(".jp-StudyMate-passage").get_by_role("status"),
            "course mark": citation.get_by_role("img", name="From the course library"),
        }
    )
    shot(page, "course-citation-student-dark")


def test_the_panel_raised_no_uncaught_errors() -> None:
    assert [e for e in PAGE_ERRORS if "studymate-jupyter" in e] == []
