"""The vector step through a real server: a document is searchable by its words at once,
its vectors follow in the background and join the ranking, and a restart resumes them."""

from __future__ import annotations

import asyncio
import sqlite3
import urllib.parse

import gated_parts
import pytest
from library_calls import CALCULUS_MARKDOWN, add

from studymate_jupyter.pytest_plugin import ServerProcess

# Shares no word with the note (which says "how fast a function changes at a point"): only
# the vectors can find the Derivatives section for it.
PARAPHRASE = "how quickly does something vary at one instant"


async def search(api, question: str, k: int = 3) -> list[dict]:
    return (await api(f"search?q={urllib.parse.quote(question)}&k={k}"))["results"]


async def wait_vectors(api, document_id: str, timeout: float = 120) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while (document := await api(f"documents/{document_id}"))["vectors"] == "pending":
        assert asyncio.get_running_loop().time() < deadline, document
        await asyncio.sleep(0.1)
    return document


@pytest.fixture
def calculus_md(jp_root_dir):
    (jp_root_dir / "calculus.md").write_text(CALCULUS_MARKDOWN)
    return "calculus.md"


class TestWhileVectorsAreComputed:
    @pytest.fixture
    def studymate_config(self):
        return {"retriever": "gated_parts:GatedHybrid"}

    @pytest.fixture(autouse=True)
    def gate(self):
        gated_parts.GATE.clear()
        yield gated_parts.GATE
        gated_parts.GATE.set()  # never leave the server's vector step waiting

    async def test_a_document_is_answered_by_its_words_first_and_by_its_vectors_once_done(
        self, api, chat_ws, calculus_md, gate
    ):
        ws = await chat_ws()
        document = await add(api, calculus_md, vectors=False)
        assert (document["status"], document["vectors"]) == ("ready", "pending")
        assert document["vectors_progress"] == 0

        # Searchable by its words already, and a chat answers from it without waiting.
        assert [r["section"] for r in await search(api, "what does the chain rule multiply")][
            :1
        ] == ["Chain rule"]
        frames = await ws.reply_to("What does the chain rule multiply?")
        final = frames[-1]["data"]["message"]
        assert final["status"] == "complete"
        assert {c["filename"] for c in final["citations"]} == {"calculus.md"}
        # Words alone cannot place the paraphrase.
        assert await search(api, PARAPHRASE) == []

        gate.set()
        updates = await ws.recv_until(
            lambda f: f["type"] == "library" and f["data"]["document"]["vectors"] == "ready",
            timeout=120,
        )
        vector_steps = [f["data"]["document"]["vectors"] for f in updates if f["type"] == "library"]
        assert set(vector_steps) <= {"pending", "ready"}
        assert (await api(f"documents/{document['id']}"))["vectors_progress"] == 1

        found = await search(api, PARAPHRASE, k=1)
        assert [(r["filename"], r["section"], r["anchor"]) for r in found] == [
            ("calculus.md", "Derivatives", "derivatives")
        ]


async def test_a_removed_document_leaves_the_vector_ranking_too(api, calculus_md):
    document = await wait_vectors(api, (await add(api, calculus_md))["id"])
    assert document["vectors"] == "ready"
    assert await search(api, PARAPHRASE)
    await api(f"documents/{document['id']}", method="DELETE")
    assert await search(api, PARAPHRASE) == []


async def test_the_retrieval_endpoint_names_the_three_signals_of_the_default(api):
    info = await api("retrieval")
    assert info == {"name": "hybrid", "signals": ["bm25", "minilm", "wordllama"], "notice": None}


class TestWithoutTheMiniLmWeights:
    @pytest.fixture
    def jp_server_config(self, jp_server_config, tmp_path):
        (tmp_path / "empty").mkdir()
        return {**jp_server_config, "HybridRetriever": {"minilm_path": str(tmp_path / "empty")}}

    async def test_search_ranks_by_words_and_wordllama_and_says_how_to_add_it(
        self, api, calculus_md
    ):
        info = await api("retrieval")
        assert info["signals"] == ["bm25", "wordllama"]
        assert "MiniLM" in info["notice"]
        assert "pip install -e ." in info["notice"]
        document = await wait_vectors(api, (await add(api, calculus_md))["id"])
        assert document["vectors"] == "ready"
        found = await search(api, "slope of the tangent line", k=1)
        assert [r["section"] for r in found] == ["Derivatives"]


async def test_vectors_left_unfinished_by_a_stop_are_computed_at_the_next_start_of_their_server(
    tmp_path, monkeypatch
):
    server = ServerProcess(tmp_path, extra_args=["--StudyMate.owner_id=ada"])
    (server.root_dir / "calculus.md").write_text(CALCULUS_MARKDOWN)
    await asyncio.to_thread(server.start)
    try:
        document = server.call("POST", "studymate/api/documents", {"path": "calculus.md"})
        deadline = asyncio.get_running_loop().time() + 120
        while (document := server.get(f"studymate/api/documents/{document['id']}"))[
            "vectors"
        ] != "ready":
            assert asyncio.get_running_loop().time() < deadline, document
            await asyncio.sleep(0.2)
    finally:
        await asyncio.to_thread(server.stop)
    # What a stop in the middle of the vector step leaves: some vectors stored, not all.
    with sqlite3.connect(server.db_path) as conn:
        total = conn.execute("SELECT count(*) FROM chunk_embeddings").fetchone()[0]
        assert total == 2 * document["chunks"]  # minilm and wordllama
        conn.execute("DELETE FROM chunk_embeddings WHERE model = 'minilm'")
        conn.execute("UPDATE documents SET vectors = 'pending', vectors_progress = 0.2")
    # A hub's single-user server of another user leaves ada's vectors to ada's server.
    monkeypatch.setenv("JUPYTERHUB_USER", "someone-else")
    await asyncio.to_thread(server.start)
    try:
        await asyncio.sleep(3)  # the vector step would have loaded MiniLM and begun by now
        with sqlite3.connect(server.db_path) as conn:
            assert conn.execute("SELECT count(*) FROM chunk_embeddings").fetchone()[0] < total
            assert conn.execute("SELECT vectors FROM documents").fetchall() == [("pending",)]
    finally:
        await asyncio.to_thread(server.stop)
    monkeypatch.delenv("JUPYTERHUB_USER")
    await asyncio.to_thread(server.start)
    try:
        deadline = asyncio.get_running_loop().time() + 120
        while (resumed := server.get(f"studymate/api/documents/{document['id']}"))[
            "vectors"
        ] != "ready":
            assert resumed["vectors"] == "pending", resumed
            assert asyncio.get_running_loop().time() < deadline, resumed
            await asyncio.sleep(0.2)
        question = urllib.parse.quote(PARAPHRASE)
        results = server.get(f"studymate/api/search?q={question}&k=1")["results"]
        assert [r["section"] for r in results] == ["Derivatives"]
    finally:
        await asyncio.to_thread(server.stop)
    with sqlite3.connect(server.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM chunk_embeddings").fetchone()[0] == total
