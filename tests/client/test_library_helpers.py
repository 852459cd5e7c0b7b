"""The client's library helpers behave the same against a running server and in-process:
chat scopes, search, export, removing a document and how the library ranks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from two_courses import FILES, QUESTION, write_files

from studymate_jupyter.client import StudyMateClient, StudyMateError
from studymate_jupyter.client.local import LocalClient
from studymate_jupyter.pytest_plugin import ServerProcess


async def ready_library(client: StudyMateClient) -> dict[str, str]:
    """Add FILES; their document ids by path, once indexed."""
    ids = {}
    for path in FILES:
        document = await client.add_document(path)
        for _ in range(300):
            if document["status"] == "ready":
                break
            assert document["status"] != "failed", document
            await asyncio.sleep(0.1)
            document = await client.get_document(document["id"])
        ids[path] = document["id"]
    return ids


@pytest.fixture(params=["server", "in-process"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.asynccontextmanager
async def started(kind: str, tmp_path: Path) -> AsyncIterator[StudyMateClient]:
    """A started client of either kind, over a root holding FILES (not yet added)."""
    server = ServerProcess(tmp_path)
    write_files(server.root_dir)
    client: StudyMateClient
    if kind == "server":
        await asyncio.to_thread(server.start)
        client = StudyMateClient(server.url, server.token)
        await client.connect()
    else:
        client = LocalClient(server.root_dir, db_url=f"sqlite:///{server.db_path}")
        await client.start()
    try:
        yield client
    finally:
        await client.close()
        await asyncio.to_thread(server.stop)


async def cited(client: StudyMateClient, chat_id: str) -> set[str]:
    await client.open_chat(chat_id)
    reply = await client.send(QUESTION, timeout=30)
    return {c["path"] for c in reply["citations"]}


async def test_a_chat_created_with_a_scope_draws_only_on_it_until_it_is_cleared(
    kind: str, tmp_path: Path
) -> None:
    async with started(kind, tmp_path) as client:
        await ready_library(client)
        scope = {"folder": "physics", "document_ids": None}
        chat = await client.create_chat("Physics", scope=scope)
        assert chat["scope"] == scope
        assert await cited(client, chat["id"]) == {"physics/light.md"}
        cleared = await client.set_scope(chat["id"], None)
        assert cleared["scope"] is None
        assert await cited(client, chat["id"]) == set(FILES)


async def test_a_chat_can_be_limited_to_chosen_documents_after_it_started(
    kind: str, tmp_path: Path
) -> None:
    async with started(kind, tmp_path) as client:
        ids = await ready_library(client)
        chat = await client.create_chat()
        assert await cited(client, chat["id"]) == set(FILES)
        scope = {"folder": None, "document_ids": [ids["algebra/eigen.md"]]}
        assert (await client.set_scope(chat["id"], scope))["scope"] == scope
        assert [c["scope"] for c in await client.list_chats()] == [scope]
        assert await cited(client, chat["id"]) == {"algebra/eigen.md"}


async def test_a_malformed_scope_is_refused_and_changes_nothing(kind: str, tmp_path: Path) -> None:
    async with started(kind, tmp_path) as client:
        chat = await client.create_chat()
        for scope in ({"folder": 3}, {"documents": ["x"]}, {"document_ids": "x"}):
            with pytest.raises(StudyMateError) as refused:
                await client.set_scope(chat["id"], scope)  # type: ignore[arg-type]
            assert refused.value.code == "bad_request"
            with pytest.raises(StudyMateError) as refused:
                await client.create_chat(scope=scope)  # type: ignore[arg-type]
            assert refused.value.code == "bad_request"
        assert [c["scope"] for c in await client.list_chats()] == [None]


async def test_search_export_and_removal_work_the_same(kind: str, tmp_path: Path) -> None:
    async with started(kind, tmp_path) as client:
        ids = await ready_library(client)
        [best, *_] = await client.search("speed of light in glass", k=2)
        assert best["path"] == "physics/light.md"
        assert "glass" in best["snippet"]
        with pytest.raises(StudyMateError) as refused:
            await client.search("light", k=0)
        assert refused.value.code == "bad_request"
        ranking = await client.retrieval_info()
        assert set(ranking) == {"name", "signals", "notice"}
        assert "bm25" in ranking["signals"]

        await client.send(QUESTION, timeout=30)
        exported = await client.export_chat()
        assert QUESTION in exported
        assert "light.md § Light" in exported  # a Markdown citation names its section
        notebook = await client.export_chat(format="ipynb")
        assert '"nbformat": 4' in notebook

        await client.delete_document(ids["physics/light.md"])
        assert [d["path"] for d in await client.list_documents()] == ["algebra/eigen.md"]
        assert {r["path"] for r in await client.search("speed of light", k=5)} == {
            "algebra/eigen.md"
        }


async def test_both_kinds_refuse_the_same_requests_as_the_rest_api(
    kind: str, tmp_path: Path
) -> None:
    async with started(kind, tmp_path) as client:
        chat = await client.create_chat("  ")
        assert chat["title"] == "New chat"
        # Made one at a time: a call made and left unawaited by a failing one would warn later,
        # in whichever test the collector happens to run.
        refusals = [
            lambda: client.create_chat("x" * 201),
            lambda: client.rename_chat(chat["id"], ""),
            lambda: client.get_messages(chat["id"], limit=0),
            lambda: client.get_messages(chat["id"], limit=501),
            lambda: client.add_document(""),
            lambda: client.search("light", k=51),
        ]
        for refusal in refusals:
            with pytest.raises(StudyMateError) as refused:
                await refusal()
            assert refused.value.code == "bad_request"
        with pytest.raises(StudyMateError) as missing:
            await client.get_chat("no-such-chat")
        assert missing.value.code == "not_found"
        assert [c["title"] for c in await client.list_chats()] == ["New chat"]
