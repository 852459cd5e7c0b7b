"""At start the server checks StudyMate's settings, builds its parts, and resumes its work."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from library_calls import CALCULUS_MARKDOWN, add
from tornado.httpclient import HTTPClientError
from traitlets import TraitError

from studymate_jupyter.app import StudyMate
from studymate_jupyter.pytest_plugin import ServerProcess
from studymate_jupyter.store import library as library_rows
from studymate_jupyter.store.db import Database


class TestACustomAssistant:
    @pytest.fixture
    def studymate_config(self):
        return {"assistant": "custom_parts:Librarian"}

    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        # The assistant's own setting, on its own class, as any Jupyter setting is given.
        return {**jp_server_config, "Librarian": {"opening": "Look in"}}

    async def test_named_by_module_and_class_it_is_built_with_the_library_and_answers(
        self, api, chat_ws, jp_root_dir
    ):
        (jp_root_dir / "calculus.md").write_text(CALCULUS_MARKDOWN)
        assert (await add(api, "calculus.md"))["status"] == "ready"
        ws = await chat_ws()
        reply = (await ws.reply_to("How do I differentiate a composition?"))[-1]["data"]
        assert reply["message"]["status"] == "complete"
        assert reply["message"]["content"] == "Look in calculus.md, section 2 [1]."
        [citation] = reply["message"]["citations"]
        assert (citation["filename"], citation["page_start"]) == ("calculus.md", 2)


class TestAnInstalledAssistant:
    """A package that declares `[project.entry-points."studymate.assistants"]`."""

    @pytest.fixture
    def studymate_config(self, tmp_path, monkeypatch):
        # What installing such a package leaves on sys.path: its metadata, entry points and all.
        info = tmp_path / "site" / "studymate_librarian-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: studymate-librarian\n")
        (info / "entry_points.txt").write_text(
            "[studymate.assistants]\nlibrarian = custom_parts:Librarian\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
        return {"assistant": "librarian"}

    async def test_it_is_chosen_by_its_name(self, api, chat_ws, jp_root_dir):
        (jp_root_dir / "calculus.md").write_text(CALCULUS_MARKDOWN)
        await add(api, "calculus.md")
        ws = await chat_ws()
        reply = (await ws.reply_to("What does the chain rule multiply?"))[-1]["data"]["message"]
        assert reply["content"] == "The best passage is in calculus.md, section 2 [1]."

    def test_an_unknown_name_lists_it_among_the_choices(self, studymate_config):
        with pytest.raises(TraitError, match='Choose one of "extractive", "openai", "librarian"'):
            StudyMate(assistant="librarain")


def refusal(capfd) -> list[str]:
    """The warnings and errors the server logged while it started, with no traceback among
    them (capfd must come before the server fixtures: the server logs to stderr while it
    initializes)."""
    logged = capfd.readouterr().err
    assert "Traceback" not in logged
    lines = [line for line in logged.splitlines() if line.startswith(("[W ", "[E ", "[C "))]
    return [line.partition("] ")[2] for line in lines]


async def assert_studymate_is_off_and_the_server_on(jp_fetch):
    with pytest.raises(HTTPClientError) as off:
        await jp_fetch("studymate", "api", "me")
    assert off.value.code == 404
    assert (await jp_fetch("api", "status")).code == 200


class TestAPartThatCannotBeFound:
    @pytest.fixture(
        params=[
            (
                {"assistant": "chatgpt"},
                "StudyMate.assistant: there is no assistant 'chatgpt'. Choose one of "
                '"extractive", "openai" (installed in the entry-point group '
                'studymate.assistants), or "package.module:Class" naming an Assistant subclass.',
            ),
            (
                {"retriever": "vectors"},
                "StudyMate.retriever: there is no retriever 'vectors'. Choose one of "
                '"bm25", "hybrid" (installed in the entry-point group '
                'studymate.retrievers), or "package.module:Class" naming a Retriever subclass.',
            ),
            (
                {"assistant": "no_such_module:Helper"},
                "StudyMate.assistant: 'no_such_module:Helper' could not be loaded "
                "(ModuleNotFoundError: No module named 'no_such_module')",
            ),
            (
                {"assistant": "custom_parts:Missing"},
                "StudyMate.assistant: 'custom_parts:Missing' could not be loaded "
                "(AttributeError: module 'custom_parts' has no attribute 'Missing')",
            ),
            (
                {"retriever": "custom_parts:Librarian"},
                "StudyMate.retriever: 'custom_parts:Librarian' is not a Retriever subclass",
            ),
            (
                {"assistant": "custom_parts:Unfinished"},
                "StudyMate.assistant: 'custom_parts:Unfinished' does not implement answer",
            ),
        ],
        ids=[
            "unknown assistant",
            "unknown retriever",
            "no module",
            "no class",
            "wrong base",
            "abstract",
        ],
    )
    def case(self, request):
        return request.param

    @pytest.fixture
    def studymate_config(self, case):
        return case[0]

    async def test_is_refused_at_start_with_what_may_be_given(self, capfd, case, jp_fetch):
        assert refusal(capfd) == [f"StudyMate did not start: {case[1]}"]
        await assert_studymate_is_off_and_the_server_on(jp_fetch)


class TestANumberOutOfRange:
    @pytest.fixture(
        params=[
            ("stream_frame_rate", 0, "StudyMate.stream_frame_rate must be more than 0, not 0.0"),
            ("max_content_bytes", -1, "StudyMate.max_content_bytes must be more than 0, not -1"),
            ("rate_burst", 0, "StudyMate.rate_burst must be more than 0, not 0"),
            ("parse_timeout", float("inf"), "StudyMate.parse_timeout must be more than 0, not inf"),
            ("rate_limit", -5, "StudyMate.rate_limit must be 0 (no limit) or more, not -5.0"),
        ],
        ids=lambda case: f"{case[0]}={case[1]}",
    )
    def case(self, request):
        return request.param

    @pytest.fixture
    def studymate_config(self, case):
        return {case[0]: case[1]}

    async def test_is_refused_at_start_naming_the_setting(self, capfd, case, jp_fetch):
        assert refusal(capfd) == [f"StudyMate did not start: {case[2]}"]
        await assert_studymate_is_off_and_the_server_on(jp_fetch)


class TestZeroWhereItMeansOff:
    @pytest.fixture
    def studymate_config(self):
        return {"rate_limit": 0}

    async def test_rate_limit_zero_starts_without_a_limit(self, chat_ws):
        ws = await chat_ws()
        for _ in range(600):  # more than the default burst of 400, at once
            await ws.send("auth", {})
        frames = [await ws.recv() for _ in range(600)]
        assert {frame["type"] for frame in frames} == {"auth_ok"}


async def test_a_document_left_half_indexed_by_a_stop_is_indexed_at_the_next_start(tmp_path):
    server = ServerProcess(tmp_path, extra_args=["--StudyMate.owner_id=ada"])
    (server.root_dir / "calculus.md").write_text(CALCULUS_MARKDOWN)
    # What a stop in the middle of indexing leaves behind: the document queued, no chunks.
    db = Database(f"sqlite:///{server.db_path}")
    sha256 = hashlib.sha256(CALCULUS_MARKDOWN.encode()).hexdigest()
    queued = db.write_sync(
        lambda s: library_rows.upsert_document(
            s, "ada", "calculus.md", "markdown", len(CALCULUS_MARKDOWN), sha256
        )
    ).document
    db.close()
    assert queued["status"] == "queued"
    await asyncio.to_thread(server.start)
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while (document := server.get(f"studymate/api/documents/{queued['id']}"))[
            "status"
        ] != "ready":
            assert document["status"] != "failed", document
            assert asyncio.get_running_loop().time() < deadline, document
            await asyncio.sleep(0.1)
        results = server.get("studymate/api/search?q=chain%20rule&k=1")["results"]
        assert [(r["filename"], r["page_start"]) for r in results] == [("calculus.md", 2)]
    finally:
        await asyncio.to_thread(server.stop)


def test_the_in_process_app_refuses_the_same_settings_when_it_is_built():
    # LocalServer (a kernel without a server) builds StudyMate from keyword arguments.
    with pytest.raises(TraitError, match=r"^StudyMate\.stream_frame_rate must be more than 0"):
        StudyMate(stream_frame_rate=0)
    with pytest.raises(TraitError, match=r"^StudyMate\.assistant: there is no assistant 'gpt'"):
        StudyMate(assistant="gpt")


def test_the_built_in_parts_are_entry_points_like_any_installed_one():
    from importlib.metadata import entry_points

    from studymate_jupyter.assistant.extractive import ExtractiveAssistant
    from studymate_jupyter.assistant.openai_compat import OpenAIProvider
    from studymate_jupyter.library.hybrid import HybridRetriever
    from studymate_jupyter.library.retrieval import Bm25Retriever

    def registered(group: str) -> dict[str, type]:
        return {point.name: point.load() for point in entry_points(group=group)}

    assert registered("studymate.assistants") == {
        "extractive": ExtractiveAssistant,
        "openai": OpenAIProvider,
    }
    assert registered("studymate.retrievers") == {"bm25": Bm25Retriever, "hybrid": HybridRetriever}


def test_an_empty_db_url_takes_studymate_db_url_from_the_environment_and_a_set_one_wins(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STUDYMATE_DB_URL", raising=False)
    assert (
        StudyMate().database_url()
        == f"sqlite:///{tmp_path / 'data' / 'studymate' / 'studymate.db'}"
    )
    monkeypatch.setenv("STUDYMATE_DB_URL", "postgresql+psycopg://hub:pw@db/course")
    assert StudyMate().database_url() == "postgresql+psycopg://hub:pw@db/course"
    assert StudyMate(db_url="sqlite:///mine.db").database_url() == "sqlite:///mine.db"
    monkeypatch.setenv("STUDYMATE_DB_URL", "")
    assert StudyMate().database_url().startswith("sqlite:///")
