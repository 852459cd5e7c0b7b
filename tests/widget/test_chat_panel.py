"""The notebook widget against real servers: what a student would see in the panel."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fake_llm import FakeLLM
from waiting import until
from widget_steps import html_values, panel_on

from studymate_jupyter import ChatPanel
from studymate_jupyter.assistant.prompt import WITHOUT_MATERIAL
from studymate_jupyter.pytest_plugin import ServerProcess, free_port, is_final_reply

NOTES = """# Gradient descent

Gradient descent takes small steps downhill along the negative gradient of the loss.
The learning rate sets the size of each gradient descent step.

# Momentum

Momentum keeps a running average of past gradients, which damps oscillations.
"""
QUESTION = "What does the learning rate do in gradient descent?"
ANSWER = [f"word{n} " for n in range(30)] + ["about the learning rate [1]."]
HOSTILE = (
    "Look <img src=x onerror=alert(1)> here <script>alert(2)</script> and "
    '[click](javascript:alert(3)) or <a href="javascript:alert(4)">this</a> $x<y$.'
)


@contextlib.asynccontextmanager
async def server_answering(
    tmp_path: Path, pieces: list[str], delay: float = 0.04
) -> AsyncIterator[ServerProcess]:
    """A real `jupyter server` whose assistant streams `pieces` slowly, citing the library
    (one Markdown note, `notes.md`, in its root)."""
    llm = FakeLLM(pieces, delay=delay)
    args = llm.args
    server = ServerProcess(tmp_path / "server", extra_args=args)
    (server.root_dir / "notes.md").write_text(NOTES)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)
        llm.close()


class ActiveContent(HTMLParser):
    """Collects what in a piece of HTML could run code or load something."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "img", "iframe", "object", "embed", "style", "svg"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if value and "javascript:" in value.replace(" ", "").lower():
                self.found.append(f"{tag} {name}={value}")


def active_content(text: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(text)
    return parser.found


async def test_a_scripted_conversation_streams_a_cited_answer_into_the_panel(tmp_path):
    async with server_answering(tmp_path, ANSWER) as server, panel_on(server) as panel:
        assert panel.connection == "connected"
        assert "connected" in panel.screen.status.value
        document = await panel.add_document("notes.md")
        assert document["status"] == "ready"

        typing: list[bool] = []
        panel.screen.typing_indicator.layout.observe(
            lambda change: typing.append(change["new"] != "none"), names="display"
        )
        bodies: list[str] = []
        stop_shown: list[bool] = []
        panel.screen.stop_button.layout.observe(
            lambda change: stop_shown.append(change["new"] != "none"), names="display"
        )

        def watch_rows(change: dict[str, Any]) -> None:
            for row in change["new"]:
                if row not in change["old"] and "StudyMate" in row.children[0].value:
                    bodies.append(row.children[0].value)
                    row.children[0].observe(lambda c: bodies.append(c["new"]), names="value")

        panel.screen.message_list.observe(watch_rows, names="children")

        reply = await panel.send(QUESTION)

        assert reply["status"] == "complete"
        assert reply["content"] == "".join(ANSWER)
        assert [m["role"] for m in panel.messages] == ["user", "assistant"]
        assert panel.messages[0]["content"] == QUESTION
        assert panel.messages[1] == reply
        assert QUESTION in panel.screen.title.value
        assert panel.chat_id in dict(panel.screen.picker.options).values()

        # The reply grew in place, batched (~1.2 s of streaming, at most ~20 updates a second).
        words = [b.count("word") for b in bodies]
        assert len(set(words)) >= 3, bodies
        assert words == sorted(words)
        assert len(bodies) <= 20 * 1.5 + 5
        assert "word29" in bodies[-1]
        assert "▍" not in bodies[-1]
        assert typing[0] is True
        assert typing[-1] is False
        assert not panel.typing
        assert True in stop_shown
        assert stop_shown[-1] is False

        view = panel.views[reply["id"]]
        chips = list(view.chips.children)
        # A Markdown citation is named by its section, not by its section numbers.
        assert [c.description for c in chips] == ["[1] notes.md § Gradient descent"]
        assert chips[0].tooltip.startswith("relevance ")
        assert panel.screen.preview.box.layout.display == "none"

        chips[0].click()
        await until(lambda: "learning rate sets the size" in panel.screen.preview.body.value)
        assert panel.screen.preview.box.layout.display is None
        assert "[1] notes.md § Gradient descent" in panel.screen.preview.title.value
        # Outside JupyterLab's extension: a link to the file, opening in a new tab.
        assert 'href="/files/notes.md#gradient-descent"' in panel.screen.preview.link.value
        assert 'target="_blank"' in panel.screen.preview.link.value


async def test_a_hostile_message_reaches_no_widget_with_anything_active(tmp_path):
    async with (
        server_answering(tmp_path, [HOSTILE[:30], HOSTILE[30:]], delay=0.01) as server,
        panel_on(server) as panel,
    ):
        reply = await panel.send("Say something " + HOSTILE)
        assert "<script>" in reply["content"], "the server stores what the model said"

        texts = html_values(panel)
        assert sum("Look" in t and "here" in t for t in texts) >= 3  # title, question, reply
        for text in texts:
            assert active_content(text) == [], text
            assert "<script" not in text
            assert "<img" not in text
        # Math stays as (escaped) TeX for HTMLMath, never as markup.
        assert any("$x&lt;y$" in t for t in texts)


async def test_messages_sync_live_between_the_panel_and_another_client(tmp_path):
    async with (
        server_answering(tmp_path, ["a short answer"], delay=0.01) as server,
        panel_on(server) as panel,
    ):
        first = await panel.send("first question")
        chat_id = first["chat_id"]
        other = await server.connect()
        try:
            await other.send("auth", {"chat_id": chat_id})
            await other.recv_until(lambda f: f["type"] == "auth_ok")

            # The other client asks: the panel shows the question and the reply as they come.
            message = {"id": uuid.uuid4().hex, "role": "user", "content": "asked elsewhere"}
            await other.send("message", {"message": message, "chat_id": chat_id})
            await other.recv_until(is_final_reply)
            await until(
                lambda: (
                    [m["content"] for m in panel.messages][-2:]
                    == ["asked elsewhere", WITHOUT_MATERIAL + "a short answer"]
                    and panel.messages[-1]["status"] == "complete"
                ),
                what="the other client's message in the panel",
            )
            assert any("asked elsewhere" in v.body.value for v in panel.views.values())

            # The panel asks: the other client sees the question and the reply.
            await panel.send("asked in the panel")
            frames = await other.recv_until(is_final_reply)
            users = [
                f["data"]["message"]["content"]
                for f in frames
                if f["type"] == "message" and f["data"]["message"]["role"] == "user"
            ]
            assert users == ["asked in the panel"]
        finally:
            other.close()


async def test_without_a_reachable_server_the_panel_runs_in_process(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "notes.md").write_text(NOTES)
    closed_port = free_port()
    panel = ChatPanel(
        url=f"http://127.0.0.1:{closed_port}/",
        token="unused",
        root_dir=root,
        local_traits={"db_url": f"sqlite:///{tmp_path / 'studymate.db'}"},
    )
    try:
        await panel.wait_ready()
        assert panel.in_process
        assert panel.connection == "in-process"
        assert "in-process" in panel.screen.status.value
        assert f"No Jupyter server reachable at http://127.0.0.1:{closed_port}/" in (
            panel.screen.status.value
        )
        await panel.add_document("notes.md")
        reply = await panel.send(QUESTION)
        assert reply["status"] == "complete"
        assert "learning rate sets the size" in reply["content"]
        assert [m["role"] for m in panel.messages] == ["user", "assistant"]

        passage = await panel.open_citation(reply["citations"][0])
        assert "learning rate" in passage["text"]
        # No server to serve the file: the preview says where it is instead of linking.
        assert "href" not in panel.screen.preview.link.value
        assert "notes.md" in panel.screen.preview.link.value
    finally:
        await asyncio.to_thread(panel.close)


async def test_a_wrong_token_is_reported_and_not_taken_for_an_absent_server(studymate_server):
    panel = ChatPanel(url=studymate_server.url, token="wrong")
    try:
        with pytest.raises(Exception, match="forbidden"):
            await panel.wait_ready()
        assert not panel.in_process
        assert panel.connection == "offline"
        assert panel.screen.error_bar.layout.display is None
    finally:
        await asyncio.to_thread(panel.close)
