"""Around the conversation, in a real JupyterLab through headless Debian Chromium: reactions
and ratings on answers (kept over a reload, live in a second page), unread replies in the
chat list until the chat is opened, and the search over messages that opens a chat at the
message found. The default offline assistant answers from a library note.

One JupyterLab subprocess and one browser page for the module; the tests run in order.
Another connection of the same user (a script) asks in a chat the panel is not showing.
Screenshots go to `test-artifacts/` and `/tmp/shots/`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from labpage import (
    PAGE_ERRORS,
    WAIT,
    ask,
    assistant_messages,
    connection,
    expect,
    open_panel,
    panel,
    shot,
)

from studymate_jupyter.pytest_plugin import ServerProcess

SHOTS = Path("/tmp/shots")
NOTE = "notes/optics.md"
NOTE_TEXT = "# Refraction\n\n" + " ".join(
    [
        "Snell's law describes refraction at the boundary between two media. The ratio of "
        "the sines of the angles equals the inverse ratio of the refractive indices."
    ]
    * 6
)
#: The word of the first question that no later message has: the search looks for it.
RARE = "quokka"
FIRST_QUESTION = f"A {RARE} asks: what does Snell's law describe?"
#: More than the newest page (50 messages) holds, so the first question needs older pages.
LATER_EXCHANGES = 30
PARTY = "\U0001f389"
THUMBS = "\U0001f44d"


def keep(page: Any, name: str) -> None:
    """A screenshot in test-artifacts/ (labpage.shot) and in /tmp/shots/."""
    shot(page, name)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def wait_until(condition: Any, what: str, seconds: float = WAIT / 1000) -> Any:
    """Poll `condition` until it returns something true (that value)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def show_panel(page: Any) -> None:
    """The panel on screen, after a reload too (JupyterLab may restore it open or closed)."""
    expect(page.locator("#studymate-panel")).to_have_count(1, timeout=60_000)
    if not panel(page).is_visible():
        page.locator('.jp-SideBar li[data-id="studymate-panel"]').click()
    expect(panel(page)).to_be_visible()
    expect(connection(page)).to_have_attribute("data-state", "connected")


def open_chat(page: Any, chat_id: str) -> None:
    """Open a chat from the chat list (whatever the panel shows now)."""
    view = panel(page).locator(f'.jp-StudyMate-chat[data-chat-id="{chat_id}"]')
    if view.count():
        return
    back = panel(page).get_by_role("button", name="All chats")
    if back.count():
        back.click()
    item = panel(page).locator(f'.jp-StudyMate-chatItem[data-chat-id="{chat_id}"]')
    item.locator(".jp-StudyMate-chatOpen").click()
    expect(view).to_be_visible()


def chat_list_item(page: Any, chat_id: str) -> Any:
    return panel(page).locator(f'.jp-StudyMate-chatItem[data-chat-id="{chat_id}"]')


def open_chat_id(page: Any) -> str:
    chat_id = panel(page).locator(".jp-StudyMate-chat").get_attribute("data-chat-id")
    assert chat_id
    assert not chat_id.startswith("draft:")
    return str(chat_id)


def ask_from_another_connection(lab: ServerProcess, chat_id: str, questions: list[str]) -> None:
    """Ask in a chat over a WebSocket of its own (a script, another tab), each question after
    the previous reply ended; that connection never says it read anything."""

    async def run() -> None:
        client = await lab.connect()
        try:
            await client.send("auth", {"chat_id": chat_id})
            await client.recv_until(lambda f: f["type"] == "auth_ok")
            for question in questions:
                frames = await client.reply_to(question, chat_id=chat_id)
                assert frames[-1]["data"]["message"]["status"] == "complete", frames[-1]
        finally:
            # Closed here, on its own loop, to the end of the closing handshake.
            client.close()
            while await asyncio.wait_for(client.conn.read_message(), 10) is not None:
                pass

    failure: list[BaseException] = []

    def thread() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # reported on the test's thread
            failure.append(exc)

    # Playwright's sync API holds this thread's event loop: the client runs on its own.
    worker = threading.Thread(target=thread)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the other connection's questions took over 2 minutes"
    if failure:
        raise failure[0]


def stored_message(lab: ServerProcess, chat_id: str, message_id: str) -> dict[str, Any]:
    page = lab.call("GET", f"studymate/api/chats/{chat_id}/messages?limit=500")
    return next(m for m in page["messages"] if m["id"] == message_id)


def chat_record(lab: ServerProcess, chat_id: str) -> dict[str, Any]:
    chats = lab.call("GET", "studymate/api/chats")["chats"]
    return next(c for c in chats if c["id"] == chat_id)


@pytest.fixture(scope="module")
def state() -> dict[str, str]:
    """What the tests of this module hand on: the chat and the answer they work on."""
    return {}


def test_reacting_to_an_answer_shows_a_chip_with_its_count(
    page: Any, lab: ServerProcess, state: dict[str, str]
) -> None:
    (lab.root_dir / NOTE).parent.mkdir(parents=True, exist_ok=True)
    (lab.root_dir / NOTE).write_text(NOTE_TEXT)
    lab.call("POST", "studymate/api/documents", {"path": NOTE})
    wait_until(
        lambda: lab.call("GET", "studymate/api/documents")["documents"][0]["status"] == "ready",
        "the note to be indexed",
    )
    open_panel(page)
    ask(page, FIRST_QUESTION)
    reply = assistant_messages(page).last
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply).to_contain_text("Snell")
    chat_id = open_chat_id(page)
    answer_id = str(reply.get_attribute("data-message-id"))
    state.update(chat=chat_id, answer=answer_id)

    reply.get_by_role("button", name="Add a reaction").click()
    picker = reply.get_by_role("toolbar", name="Choose a reaction")
    expect(picker.get_by_role("button")).to_have_count(10)
    keep(page, "reaction-picker")
    picker.get_by_role("button", name=f"React with {PARTY}").click()
    expect(picker).to_have_count(0)
    chip = reply.get_by_role("group", name="Reactions").get_by_role("button", name=PARTY)
    expect(chip).to_have_text(f"{PARTY}1")
    expect(chip).to_have_attribute("aria-pressed", "true")
    keep(page, "reaction-chip")
    stored = stored_message(lab, chat_id, answer_id)
    assert list(stored["reactions"]) == [PARTY]
    assert len(stored["reactions"][PARTY]) == 1

    # The question can be reacted to as well; clicking one's own chip takes it off.
    question = panel(page).locator(".jp-StudyMate-message-user").last
    question.get_by_role("button", name="Add a reaction").click()
    question.get_by_role("button", name=f"React with {THUMBS}").click()
    own = question.get_by_role("button", name=f"{THUMBS} 1")
    expect(own).to_have_attribute("aria-pressed", "true")
    own.click()
    expect(question.locator(".jp-StudyMate-reaction")).to_have_count(0)


def test_a_second_page_sees_reactions_change_live(
    page: Any, lab: ServerProcess, state: dict[str, str]
) -> None:
    other = page.context.new_page()
    try:
        other.goto(f"{lab.url}lab?token={lab.token}")
        expect(other.locator("#jp-main-dock-panel")).to_have_count(1, timeout=60_000)
        show_panel(other)
        open_chat(other, state["chat"])
        there = other.locator(f'.jp-StudyMate-message[data-message-id="{state["answer"]}"]')
        here = panel(page).locator(f'.jp-StudyMate-message[data-message-id="{state["answer"]}"]')
        expect(there.locator(".jp-StudyMate-reaction")).to_have_text([f"{PARTY}1"])

        # Here a 👍: the other page shows it without reloading.
        here.get_by_role("button", name="Add a reaction").click()
        here.get_by_role("button", name=f"React with {THUMBS}").click()
        expect(there.locator(".jp-StudyMate-reaction")).to_have_text([f"{THUMBS}1", f"{PARTY}1"])
        keep(other, "reaction-live-second-page")
        # There the 🎉 comes off: here it goes.
        there.get_by_role("button", name=f"{PARTY} 1").click()
        expect(here.locator(".jp-StudyMate-reaction")).to_have_text([f"{THUMBS}1"])
    finally:
        other.close()


def test_thumbs_down_with_a_note_is_kept_after_a_reload(
    page: Any, lab: ServerProcess, state: dict[str, str]
) -> None:
    reply = panel(page).locator(f'.jp-StudyMate-message[data-message-id="{state["answer"]}"]')
    down = reply.get_by_role("button", name="Not a helpful answer")
    down.click()
    expect(down).to_have_attribute("aria-pressed", "true")
    box = reply.get_by_role("textbox", name="What was wrong with this answer? (optional)")
    expect(box).to_be_focused()
    box.fill("It should say what the refractive index is.")
    keep(page, "feedback-note-box")
    reply.get_by_role("button", name="Send note").click()
    note = reply.locator(".jp-StudyMate-feedbackNoteText")
    expect(note).to_have_text("It should say what the refractive index is.")
    stored = stored_message(lab, state["chat"], state["answer"])
    assert stored["feedback"] == {
        "rating": "down",
        "note": "It should say what the refractive index is.",
    }

    page.reload()
    expect(page.locator("#jp-main-dock-panel")).to_have_count(1, timeout=60_000)
    show_panel(page)
    open_chat(page, state["chat"])
    reply = panel(page).locator(f'.jp-StudyMate-message[data-message-id="{state["answer"]}"]')
    expect(reply.get_by_role("button", name="Not a helpful answer")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(reply.get_by_role("button", name="Helpful answer", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(reply.locator(".jp-StudyMate-feedbackNoteText")).to_have_text(
        "It should say what the refractive index is."
    )
    expect(reply.locator(".jp-StudyMate-reaction")).to_have_text([f"{THUMBS}1"])
    keep(page, "feedback-after-reload")

    # Thumbs up replaces the rating (and its note); clicking it again takes it back.
    up = reply.get_by_role("button", name="Helpful answer", exact=True)
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(reply.locator(".jp-StudyMate-feedbackNoteText")).to_have_count(0)
    up.click()
    expect(up).to_have_attribute("aria-pressed", "false")
    assert stored_message(lab, state["chat"], state["answer"])["feedback"] is None


def test_a_reply_that_ends_in_another_chat_shows_an_unread_badge_until_it_is_opened(
    page: Any, lab: ServerProcess, state: dict[str, str]
) -> None:
    # The panel is in a new chat of its own while a script asks in the first one.
    panel(page).get_by_role("button", name="New chat").click()
    ask(page, "How do thin lenses focus light?")
    expect(assistant_messages(page).last).to_have_attribute("data-status", "complete")
    here = open_chat_id(page)
    assert here != state["chat"]
    # A reply that ends on screen is read once it has stayed there a moment.
    wait_until(lambda: chat_record(lab, here)["read_up_to"] is not None, "the new chat's read")
    assert chat_record(lab, here)["unread"] == 0
    ask_from_another_connection(lab, state["chat"], ["And what is the refractive index?"])
    assert chat_record(lab, state["chat"])["unread"] == 1

    panel(page).get_by_role("button", name="All chats").click()
    badge = chat_list_item(page, state["chat"]).locator(".jp-StudyMate-unread")
    expect(badge).to_have_text("1")
    expect(badge).to_have_attribute("aria-label", "1 unread reply")
    # The chat the panel was in has nothing unread: its reply ended on screen.
    expect(panel(page).locator(".jp-StudyMate-unread")).to_have_count(1)
    keep(page, "unread-badge")

    open_chat(page, state["chat"])
    expect(panel(page).get_by_text("And what is the refractive index?")).to_be_visible()
    wait_until(lambda: chat_record(lab, state["chat"])["unread"] == 0, "the chat to be read")
    panel(page).get_by_role("button", name="All chats").click()
    expect(chat_list_item(page, state["chat"])).to_be_visible()
    expect(panel(page).locator(".jp-StudyMate-unread")).to_have_count(0)
    keep(page, "unread-cleared")


def test_searching_finds_an_old_message_and_opens_its_chat_highlighted_there(
    page: Any, lab: ServerProcess, state: dict[str, str]
) -> None:
    questions = [f"Question {n} about refraction at a boundary?" for n in range(LATER_EXCHANGES)]
    ask_from_another_connection(lab, state["chat"], questions)
    # A fresh page: nothing of that chat is loaded, its first question is pages back.
    page.reload()
    expect(page.locator("#jp-main-dock-panel")).to_have_count(1, timeout=60_000)
    show_panel(page)
    back = panel(page).get_by_role("button", name="All chats")
    if back.count():
        back.click()
    search = panel(page).get_by_role("searchbox", name="Search messages")

    search.fill("xylophone")
    expect(panel(page).locator(".jp-StudyMate-chatList").get_by_role("status")).to_contain_text(
        "No messages match \u201cxylophone\u201d."
    )
    keep(page, "search-nothing-found")

    search.fill("Quok")  # the last word also matches as the start of one, in any case
    results = panel(page).get_by_role("list", name="Search results").get_by_role("button")
    expect(results).to_have_count(1)
    result = results.first
    expect(result.locator(".jp-StudyMate-resultRole")).to_have_text("You:")
    expect(result.locator(".jp-StudyMate-resultChat")).to_have_text(
        chat_record(lab, state["chat"])["title"]
    )
    expect(result.locator("mark")).to_have_text(RARE)
    expect(result.locator(".jp-StudyMate-snippet")).to_contain_text("what does Snell")
    expect(panel(page).get_by_text("1 message matches \u201cQuok\u201d.")).to_be_visible()
    keep(page, "search-results")

    result.click()
    view = panel(page).locator(f'.jp-StudyMate-chat[data-chat-id="{state["chat"]}"]')
    expect(view).to_be_visible()
    found = view.locator(".jp-StudyMate-message.jp-mod-highlighted")
    expect(found).to_have_count(1)
    expect(found).to_contain_text(FIRST_QUESTION)
    expect(found).to_be_in_viewport()
    keep(page, "search-opened-highlighted")
    # It took older pages to reach it: more than one page of messages is loaded now.
    assert view.locator(".jp-StudyMate-message").count() > 50
    # The highlight is brief; the message stays where it is.
    expect(found).to_have_count(0, timeout=10_000)
    expect(view.locator(".jp-StudyMate-message", has_text=FIRST_QUESTION)).to_be_in_viewport()

    # Back in the list, the search is still there with its result.
    panel(page).get_by_role("button", name="All chats").click()
    expect(search).to_have_value("Quok")
    expect(results).to_have_count(1)
    panel(page).get_by_role("button", name="Clear the search").click()
    expect(panel(page).get_by_role("list", name="Chats")).to_be_visible()


def test_the_panel_raised_no_uncaught_errors() -> None:
    ours = [e for e in PAGE_ERRORS if "studymate-jupyter" in e]
    assert ours == []
