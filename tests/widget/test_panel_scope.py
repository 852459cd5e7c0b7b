"""The widget's "Draws on" dropdown: a chat limited to a folder or a document, before its
first question or after, against a real server and in-process. The default offline
assistant answers."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

from studymate_jupyter import ChatPanel
from studymate_jupyter.pytest_plugin import ServerProcess, free_port
from studymate_jupyter.widget.scope import value_of

FILES = {
    "algebra/eigen.md": "# Eigenvalues\n\n"
    + "An eigenvalue of a square matrix scales its eigenvector; the speed of computing "
    "eigenvalues grows with the size of the matrix. " * 4,
    "physics/light.md": "# Light\n\n"
    + "Light travels at a finite speed in a vacuum, and its speed is lower in glass. " * 4,
}
#: Its words match both files.
QUESTION = "What about the speed of light and of eigenvalues?"
PHYSICS = {"folder": "physics", "document_ids": None}


def write_files(root: Path) -> None:
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")


async def until(predicate: Any, what: str, timeout: float = 20) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(what)


async def choose(panel: ChatPanel, label: str) -> None:
    """Pick `label` in the dropdown, as a user would, once it is offered."""
    await until(lambda: label in dict(panel.scope_picker.options), f"{label!r} never offered")
    panel.scope_picker.value = dict(panel.scope_picker.options)[label]


async def ask(panel: ChatPanel) -> set[str]:
    reply = await panel.send(QUESTION, timeout=30)
    assert reply["status"] == "complete"
    return {c["path"] for c in reply["citations"]}


def rest(server: ServerProcess, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{server.url}studymate/api/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


async def test_a_new_chat_limited_to_a_folder_before_its_first_question_cites_only_it(
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path)
    write_files(server.root_dir)
    await asyncio.to_thread(server.start)
    panel = ChatPanel(url=server.url, token=server.token)
    try:
        await panel.wait_ready()
        for path in FILES:
            await panel.add_document(path)
        await choose(panel, "Folder: physics")
        await until(lambda: panel.scope == PHYSICS, "the new chat never took the folder")
        assert panel.chat_id is None

        assert await ask(panel) == {"physics/light.md"}
        chat = rest(server, "GET", f"chats/{panel.chat_id}")
        assert chat["scope"] == PHYSICS
        assert chat["title"] == QUESTION
        assert panel.scope_picker.value == value_of(PHYSICS)

        await choose(panel, "Whole library")
        await until(lambda: panel.scope is None, "the chat never went back to the library")
        assert rest(server, "GET", f"chats/{panel.chat_id}")["scope"] is None
        assert await ask(panel) == set(FILES)
    finally:
        await asyncio.to_thread(panel.close)
        await asyncio.to_thread(server.stop)


async def test_a_scope_chosen_in_another_client_shows_in_the_dropdown(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    write_files(server.root_dir)
    await asyncio.to_thread(server.start)
    panel = ChatPanel(url=server.url, token=server.token)
    try:
        await panel.wait_ready()
        ids = [(await panel.add_document(path))["id"] for path in FILES]
        await panel.send(QUESTION, timeout=30)
        both = {"folder": None, "document_ids": ids}
        rest(server, "PATCH", f"chats/{panel.chat_id}", {"scope": both})
        await until(lambda: panel.scope == both, "chat_updated never reached the panel")
        await until(lambda: panel.scope_picker.value == value_of(both), "dropdown not synced")
        assert panel.scope_picker.label == "eigen.md, light.md"
        assert "eigen.md, light.md" in panel.scope_picker.tooltip
    finally:
        await asyncio.to_thread(panel.close)
        await asyncio.to_thread(server.stop)


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
