"""The notebook widget around the conversation, against real servers: reactions and ratings
under each answer (live from the user's other clients), unread counts in the chat picker and
reads told only while the panel is on screen, and searching one's chats from the panel."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

from waiting import until
from widget_steps import html_values, panel_on

from studymate_jupyter import ChatPanel
from studymate_jupyter.client import StudyMateClient
from studymate_jupyter.pytest_plugin import ServerProcess, is_final_reply
from studymate_jupyter.widget.live import READ_DELAY

HOSTILE_NOTE = '<img src=x onerror=alert(1)> "quoted" & <script>alert(2)</script>'


@contextlib.asynccontextmanager
async def client_on(server: ServerProcess, chat_id: str | None) -> AsyncIterator[StudyMateClient]:
    client = StudyMateClient(server.url, server.token, chat_id=chat_id)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def tags_in(text: str) -> list[str]:
    parser = Tags()
    parser.feed(text)
    return parser.tags


def stored(server: ServerProcess, chat_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = server.get(f"studymate/api/chats/{chat_id}/messages")[
        "messages"
    ]
    return messages


def chat_of(server: ServerProcess, chat_id: str) -> dict[str, Any]:
    chat: dict[str, Any] = server.get(f"studymate/api/chats/{chat_id}")
    return chat


def picker_labels(panel: ChatPanel) -> dict[str, str]:
    return {value: label for label, value in panel.screen.picker.options}


def show_on_screen(panel: ChatPanel, visible: bool, view: str = "view-1") -> None:
    """What the browser's view of the panel reports as it scrolls in or out of sight."""
    viewport = panel.screen.viewport
    viewport._on_custom_msg(viewport, {"type": "visible", "view": view, "visible": visible}, [])


async def test_an_answer_shows_reactions_and_a_rating_with_its_note_and_follows_other_clients(
    studymate_server: ServerProcess,
) -> None:
    async with panel_on(studymate_server) as panel:
        reply = await panel.send("What is a vector space?")
        question = panel.messages[0]
        assert panel.views[question["id"]].feedback is None, "questions are not rated"
        bar = panel.views[reply["id"]].feedback
        assert bar is not None
        assert bar.box.layout.display is None
        assert bar.counts.children == ()

        bar.toggle_picker()
        assert bar.picker.layout.display is None
        [bulb] = [b for b in bar.picker.children if b.description == "💡"]
        bulb.click()
        await until(
            lambda: [b.description for b in bar.counts.children] == ["💡 1"],
            what="the reaction under the answer",
        )
        assert bar.counts.children[0].button_style == "info"  # the user's own
        assert bar.counts.children[0].tooltip == "You"
        assert bar.picker.layout.display == "none"

        bar.up.click()
        await until(lambda: bar.up.button_style == "success", what="the thumb up")
        assert bar.down.button_style == ""
        assert bar.note_row.layout.display is None
        bar.note.value = HOSTILE_NOTE
        bar.send_note.click()
        await until(lambda: "Your note" in bar.your_note.value, what="the note shown")
        assert stored(studymate_server, reply["chat_id"])[-1]["feedback"] == {
            "rating": "up",
            "note": HOSTILE_NOTE,
        }
        assert "&lt;script&gt;" in bar.your_note.value
        for text in html_values(panel):
            assert set(tags_in(text)) <= {"div", "b", "p", "small", "i", "span"}, text

        async with client_on(studymate_server, reply["chat_id"]) as other:
            await other.react(reply["id"], "🎉")
            await other.feedback(reply["id"], "down")
            await until(
                lambda: [b.description for b in bar.counts.children] == ["🎉 1", "💡 1"],
                what="the other client's reaction, in the picker's order",
            )
            await until(lambda: bar.down.button_style == "danger", what="the rating from there")
            assert bar.up.button_style == ""
            assert bar.your_note.layout.display == "none"  # the new rating came without one

        # The user's own reaction again takes it off; the same thumb again takes it back.
        bar.counts.children[1].click()
        await until(lambda: [b.description for b in bar.counts.children] == ["🎉 1"])
        bar.down.click()
        await until(lambda: bar.down.button_style == "", what="the rating taken back")
        last = stored(studymate_server, reply["chat_id"])[-1]
        assert last["reactions"] == {"🎉": [panel.views[reply["id"]].me]}
        assert last["feedback"] is None


async def test_the_picker_counts_unread_replies_and_the_panel_reads_only_while_on_screen(
    studymate_server: ServerProcess,
) -> None:
    async with panel_on(studymate_server) as panel:
        reply = await panel.send("What is a basis?")
        chat_id = reply["chat_id"]
        await until(
            lambda: picker_labels(panel).get(chat_id, "").endswith(" (1)"),
            what="the finished reply counted unread in the picker",
        )
        # Not on screen: nothing is told read, however long it waits.
        await asyncio.sleep(READ_DELAY * 2.5)
        assert chat_of(studymate_server, chat_id)["unread"] == 1
        assert not panel.visible

        show_on_screen(panel, True)
        assert panel.visible
        await until(lambda: chat_of(studymate_server, chat_id)["unread"] == 0, what="read")
        assert chat_of(studymate_server, chat_id)["read_up_to"] == reply["id"]
        await until(lambda: not picker_labels(panel)[chat_id].endswith(")"), what="no count")

        async with client_on(studymate_server, chat_id) as other:
            # A reply that finishes while the panel is on screen is read as it ends.
            answer = await other.send("And a dimension?", timeout=30)
            await until(
                lambda: chat_of(studymate_server, chat_id)["read_up_to"] == answer["id"],
                what="the reply read as it ended on screen",
            )
            assert chat_of(studymate_server, chat_id)["unread"] == 0

            # Scrolled away (the second view of the output too): replies stay unread.
            show_on_screen(panel, True, view="view-2")
            show_on_screen(panel, False)
            assert panel.visible
            show_on_screen(panel, False, view="view-2")
            assert not panel.visible
            later = await other.send("And a span?", timeout=30)
            await until(lambda: any(m["id"] == later["id"] for m in panel.messages))
            await asyncio.sleep(READ_DELAY * 2.5)
            assert chat_of(studymate_server, chat_id)["unread"] == 1
            assert picker_labels(panel)[chat_id].endswith(" (1)")


async def test_a_search_lists_hits_escaped_and_one_opens_its_chat_at_the_message_further_back(
    studymate_server: ServerProcess,
) -> None:
    ws = await studymate_server.connect()
    target = uuid.uuid4().hex
    await ws.send(
        "message",
        {"message": {"id": target, "role": "user", "content": 'Zebra crossings: is x<y & "z"?'}},
    )
    first = await ws.recv_until(is_final_reply)
    chat_id = next(f["data"]["chat_id"] for f in first if f["type"] == "chat_created")
    # Enough newer messages that the hit is not in the newest page a chat opens with.
    for n in range(60):
        message = {"id": uuid.uuid4().hex, "role": "user", "content": f"newer question {n}"}
        await ws.send("message", {"message": message, "chat_id": chat_id})
    await ws.recv_until(
        lambda f: is_final_reply(f) and f["data"]["message"].get("reply_to") == message["id"],
        timeout=60,
    )
    ws.close()

    async with panel_on(studymate_server) as panel:
        await panel.send("Something else entirely")
        hits = await panel.search("zebr")
        assert [h["message_id"] for h in hits if h["role"] == "user"] == [target]
        results = panel.screen.search_results
        assert results.box.layout.display is None
        assert f"{len(hits)} match" in results.heading.value
        assert "“zebr”" in results.heading.value
        [row] = [r for r, h in zip(results.rows.children, hits, strict=True) if h["role"] == "user"]
        button, snippet = row.children
        assert button.description.startswith('Zebra crossings: is x<y & "z"? · you · ')
        assert "<b>Zebra</b>" in snippet.value
        assert "x&lt;y &amp; &quot;z&quot;" in snippet.value
        assert set(tags_in(snippet.value)) == {"small", "b"}

        # As a user does it: the search field, then the hit.
        results.hide()
        panel.screen.search_field.value = "zebra crossings"
        await until(lambda: results.box.layout.display is None, what="results from the field")
        [row] = [
            r
            for r, h in zip(results.rows.children, results.results, strict=True)
            if h["message_id"] == target
        ]
        row.children[0].click()
        await until(lambda: panel.highlighted == target, what="the hit opened and highlighted")
        assert panel.chat_id == chat_id
        assert len(panel.messages) > 100, "older pages were loaded to reach it"
        assert panel.messages[0]["id"] == target
        view = panel.views[target]
        assert view.highlighted
        assert "studymate-highlight" in view.row._dom_classes
        assert sum(v.highlighted for v in panel.views.values()) == 1
        await until(lambda: panel.screen.viewport.scroll_count == 1, what="asked to scroll")

        nothing = await panel.search('AND OR NOT * ( ) " NEAR')
        assert nothing == [] or all(h["chat_id"] for h in nothing)
        assert results.box.layout.display is None
