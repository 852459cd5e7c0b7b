"""The widget's "Draws on" dropdown: a chat limited to a folder or a document, before its
first question or after, against a real server and in-process. The default offline
assistant answers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from two_courses import FILES, QUESTION, write_files

from studymate_jupyter import ChatPanel
from studymate_jupyter.pytest_plugin import ServerProcess, free_port
from studymate_jupyter.widget.scope import value_of

PHYSICS = {"folder": "physics", "document_ids": None}


async def until(predicate: Any, what: str, timeout: float = 20) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(what)


async def choose(panel: ChatPanel, label: str) -> None:
    """Pick `label` in the dropdown, as a user would, once it is offered."""
    await until(
        lambda: label in dict(panel.screen.scope_picker.options), f"{label!r} never offered"
    )
    panel.screen.scope_picker.value = dict(panel.screen.scope_picker.options)[label]


async def ask(panel: ChatPanel) -> set[str]:
    reply = await panel.send(QUESTION, timeout=30)
    assert reply["status"] == "complete"
    return {c["path"] for c in reply["citations"]}


@contextlib.asynccontextmanager
async def panel_on_server(tmp_path: Path) -> AsyncIterator[tuple[ChatPanel, ServerProcess]]:
    """A ready panel on a real server whose root holds FILES (not yet added)."""
    server = ServerProcess(tmp_path)
    write_files(server.root_dir)
    await asyncio.to_thread(server.start)
    panel = ChatPanel(url=server.url, token=server.token)
    try:
        await panel.wait_ready()
        yield panel, server
    finally:
        await asyncio.to_thread(panel.close)
        await asyncio.to_thread(server.stop)


async def test_a_new_chat_limited_to_a_folder_before_its_first_question_cites_only_it(
    tmp_path: Path,
) -> None:
    async with panel_on_server(tmp_path) as (panel, server):
        for path in FILES:
            await panel.add_document(path)
        await choose(panel, "Folder: physics")
        await until(lambda: panel.scope == PHYSICS, "the new chat never took the folder")
        assert panel.chat_id is None

        assert await ask(panel) == {"physics/light.md"}
        chat = server.call("GET", f"studymate/api/chats/{panel.chat_id}")
        assert chat["scope"] == PHYSICS
        assert chat["title"] == QUESTION
        assert panel.screen.scope_picker.value == value_of(PHYSICS)

        await choose(panel, "Whole library")
        await until(lambda: panel.scope is None, "the chat never went back to the library")
        assert server.call("GET", f"studymate/api/chats/{panel.chat_id}")["scope"] is None
        assert await ask(panel) == set(FILES)


async def test_a_scope_chosen_in_another_client_shows_in_the_dropdown(tmp_path: Path) -> None:
    async with panel_on_server(tmp_path) as (panel, server):
        ids = [(await panel.add_document(path))["id"] for path in FILES]
        await panel.send(QUESTION, timeout=30)
        both = {"folder": None, "document_ids": ids}
        server.call("PATCH", f"studymate/api/chats/{panel.chat_id}", {"scope": both})
        await until(lambda: panel.scope == both, "chat_updated never reached the panel")
        await until(
            lambda: panel.screen.scope_picker.value == value_of(both), "dropdown not synced"
        )
        assert panel.screen.scope_picker.label == "eigen.md, light.md"
        assert "eigen.md, light.md" in panel.screen.scope_picker.tooltip


async def test_in_process_a_chat_is_limited_to_a_chosen_document(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_files(root)
    panel = ChatPanel(
        url=f"http://127.0.0.1:{free_port()}/",
        token="unused",
        root_dir=root,
        local_traits={"db_url": f"sqlite:///{tmp_path / 'studymate.db'}"},
    )
    try:
        await panel.wait_ready()
        assert panel.in_process
        for path in FILES:
            await panel.add_document(path)
        assert await ask(panel) == set(FILES)
        await choose(panel, "algebra/eigen.md")
        await until(lambda: panel.scope is not None, "the chat never took the document")
        assert await ask(panel) == {"algebra/eigen.md"}
    finally:
        await asyncio.to_thread(panel.close)
