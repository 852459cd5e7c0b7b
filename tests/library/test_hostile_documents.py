"""Hostile documents through a real server: each fails alone, with a reason a person can read
(or is refused with a clear error), chats keep answering while it is parsed, the server's own
memory stays where it was, and a good document added next is indexed."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hostile_files
import pytest
from library_calls import CALCULUS_MARKDOWN, add, wait_ready
from tornado.httpclient import HTTPClientError

from studymate_jupyter.library.parsers.notebook import MAX_NOTEBOOK_OUTPUT_CHARS
from studymate_jupyter.library.service import LibraryService
from studymate_jupyter.pytest_plugin import ChatClient

if TYPE_CHECKING:
    from collections.abc import Iterator

    from studymate_jupyter.library.service import IngestJob
    from studymate_jupyter.pytest_plugin import Frame

Api = Callable[..., Awaitable[Any]]
Connect = Callable[..., Awaitable[ChatClient]]

MiB = 2**20
# The server may grow a little while it indexes and answers (SQLite pages, a chat), never by
# a hostile file's size: the files here are 200 MiB or inflate to gigabytes.
SERVER_GROWTH = 64 * MiB
TOO_DEEP = "PDF structure too deeply nested or too large to read"
REPLACED = "the file was replaced while it was being added; add it again"
# Words only: a document that parses starts its vector step at once, and the encoder's weights
# (88 MiB, loaded by each server on first use) would land inside the window Peak measures.
WORDS_ONLY = {"retriever": "bm25"}


@pytest.fixture
def server_config() -> dict[str, dict[str, Any]]:
    return {"StudyMate": WORDS_ONLY}


def resident_bytes() -> int:
    """This process's resident memory: jp_serverapp runs the server in the test process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class Peak:
    """The most the server's resident memory grew while the `with` block ran, sampled."""

    def __init__(self) -> None:
        self.growth = 0
        self._stop = threading.Event()

    def __enter__(self) -> Peak:
        self._base = resident_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.growth = max(self.growth, resident_bytes() - self._base)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.growth = max(self.growth, resident_bytes() - self._base)


def assert_flat(peak: Peak) -> None:
    assert peak.growth < SERVER_GROWTH, f"the server grew by {peak.growth / MiB:.0f} MiB"


def is_document(frame: Frame, document_id: str, status: str) -> bool:
    if frame["type"] != "library" or "document" not in frame["data"]:
        return False
    document = frame["data"]["document"]
    return bool(document["id"] == document_id and document["status"] == status)


async def added(api: Api, path: str) -> dict[str, Any]:
    """Add `path` and wait until it is indexed; the server's memory stays flat all the while.
    (Not its vectors: the encoder's first load is the server's, not the document's.)"""
    with Peak() as peak:
        document: dict[str, Any] = await add(api, path, vectors=False)
    assert_flat(peak)
    return document


def parsed(document_id: str) -> Callable[[Frame], bool]:
    """A library frame that says the parser is done with the document (failed, or back with
    its text: progress 0.5)."""

    def done(frame: Frame) -> bool:
        if frame["type"] != "library" or "document" not in frame["data"]:
            return False
        document = frame["data"]["document"]
        return bool(
            document["id"] == document_id
            and (document["status"] != "indexing" or document["progress"] >= 0.5)
        )

    return done


async def added_while_chatting(api: Api, chat_ws: Connect, path: str) -> dict[str, Any]:
    """Add `path`; once its parse has begun, a chat on another connection gets its reply and
    REST answers while the parse still runs, and the server's memory stays flat until the
    parse ends; then the document as it settles."""
    watcher, talker = await chat_ws(), await chat_ws()
    with Peak() as peak:
        queued = await api("documents", method="POST", body={"path": path})
        await watcher.recv_until(lambda f: is_document(f, queued["id"], "indexing"), timeout=60)
        started = time.monotonic()
        reply = (await talker.reply_to("What does chlorophyll absorb?"))[-1]["data"]["message"]
        assert reply["status"] == "complete"
        assert (await api("documents"))["documents"]
        during = await api(f"documents/{queued['id']}")
        # progress 0.05 is "parsing"; 0.5 is set once the parser's answer is back.
        assert (during["status"], during["progress"]) == ("indexing", 0.05), (
            f"the parse ended {time.monotonic() - started:.2f} s in, before the chat was answered"
        )
        await watcher.recv_until(parsed(queued["id"]), timeout=120)
    assert_flat(peak)
    settled: dict[str, Any] = await wait_ready(api, queued["id"], timeout=120)
    return settled


def assert_readable(document: dict[str, Any], reason: str) -> None:
    """Failed with exactly `reason` (each names no path and carries no traceback)."""
    assert document["status"] == "failed"
    assert document["error"] == reason
    assert document["chunks"] == 0


async def assert_others_go_on(api: Api, chat_ws: Connect, root: Path) -> None:
    """A chat is answered, and a good document added now is indexed and found."""
    reply = (await (await chat_ws()).reply_to("What is a derivative?"))[-1]["data"]["message"]
    assert reply["status"] == "complete"
    (root / "calculus.md").write_text(CALCULUS_MARKDOWN)
    assert (await add(api, "calculus.md"))["status"] == "ready"
    best = (await api("search?q=chain rule composition"))["results"][0]
    assert (best["path"], best["page_start"]) == ("calculus.md", 2)


async def search_paths(api: Api, query: str) -> list[str]:
    results = (await api(f"search?q={urllib.parse.quote(query)}&k=50"))["results"]
    return [result["path"] for result in results]


# ---- PDFs ------------------------------------------------------------------------------------


async def test_a_pdf_that_inflates_to_gigabytes_fails_at_once_and_alone(
    api: Api, chat_ws: Connect, jp_root_dir: Path
) -> None:
    data = hostile_files.flate_bomb_pdf(mib=4096)
    assert len(data) < 64 * 1024  # a few KB for 4 GiB
    (jp_root_dir / "bomb.pdf").write_bytes(data)
    document = await added(api, "bomb.pdf")
    assert_readable(document, "PDF content too large to decompress")
    await assert_others_go_on(api, chat_ws, jp_root_dir)


class TestTimeLimit:
    @pytest.fixture
    def server_config(self) -> dict[str, dict[str, Any]]:
        return {"StudyMate": {**WORDS_ONLY, "parse_timeout": 3.0}}

    async def test_a_pdf_of_gigabytes_of_page_content_is_stopped_while_chats_go_on(
        self, api: Api, chat_ws: Connect, jp_root_dir: Path
    ) -> None:
        # 4096 pages drawing one stream of 1 MiB: under every limit of the PDF reader, the
        # whole is 4 GiB of text operators, about an hour of parsing.
        (jp_root_dir / "pages.pdf").write_bytes(hostile_files.shared_stream_bomb_pdf(4096))
        document = await added_while_chatting(api, chat_ws, "pages.pdf")
        assert_readable(document, "parsing took too long (over 3 s)")
        await assert_others_go_on(api, chat_ws, jp_root_dir)


class TestTextLimit:
    @pytest.fixture
    def server_config(self) -> dict[str, dict[str, Any]]:
        return {"StudyMate": {**WORDS_ONLY, "max_document_bytes": MiB}}

    async def test_a_small_pdf_whose_text_inflates_past_the_size_limit_fails(
        self, api: Api, chat_ws: Connect, jp_root_dir: Path
    ) -> None:
        # Two pages that each show about a million characters from one stream: 1 KB of file.
        data = hostile_files.shared_stream_bomb_pdf(2, long_lines=True)
        assert len(data) < 4096
        (jp_root_dir / "wordy.pdf").write_bytes(data)
        assert_readable(await added(api, "wordy.pdf"), "too much text to index (over 1.0 MB)")
        await assert_others_go_on(api, chat_ws, jp_root_dir)


@pytest.mark.parametrize("where", ["page", "page tree"])
async def test_a_pdf_nested_ten_thousand_deep_where_it_is_read_fails_as_too_deep(
    api: Api, chat_ws: Connect, jp_root_dir: Path, where: str
) -> None:
    (jp_root_dir / "nested.pdf").write_bytes(hostile_files.nested_pdf(10_000, where=where))
    assert_readable(await added(api, "nested.pdf"), TOO_DEEP)
    await assert_others_go_on(api, chat_ws, jp_root_dir)


async def test_a_pdf_nested_ten_thousand_deep_where_text_is_not_read_is_indexed(
    api: Api, jp_root_dir: Path
) -> None:
    (jp_root_dir / "nested.pdf").write_bytes(hostile_files.nested_pdf(10_000, where="resource"))
    document = await added(api, "nested.pdf")
    assert (document["status"], document["pages"]) == ("ready", 1)
    assert await search_paths(api, "nested objects ahead") == ["nested.pdf"]


# ---- a notebook of 200 MB of output ----------------------------------------------------------


@pytest.fixture
def dump(jp_root_dir: Path) -> Iterator[Path]:
    """Where a test writes its 200 MB notebook, deleted after it (pytest keeps tmp folders)."""
    path = jp_root_dir / "dump.ipynb"
    yield path
    path.unlink(missing_ok=True)


async def test_a_notebook_of_200_mb_of_output_is_over_the_default_size_limit(
    api: Api, chat_ws: Connect, jp_root_dir: Path, dump: Path
) -> None:
    path = hostile_files.write_output_notebook(dump, 200, many_outputs=True)
    size = path.stat().st_size / MiB
    document = await added(api, "dump.ipynb")
    assert_readable(document, f"file too large ({size:.1f} MB > 100.0 MB limit)")
    await assert_others_go_on(api, chat_ws, jp_root_dir)


class TestNotebookUnderALargerSizeLimit:
    @pytest.fixture
    def server_config(self) -> dict[str, dict[str, Any]]:
        # Words only also because what is indexed is asked of the words index, where the
        # dense ranking would place a nearest passage for any string of digits.
        return {"StudyMate": {**WORDS_ONLY, "max_document_bytes": 512 * MiB}}

    @pytest.mark.parametrize("many_outputs", [False, True], ids=["one output", "many outputs"])
    async def test_its_cells_are_indexed_and_the_dump_is_left_out_while_chats_go_on(
        self,
        api: Api,
        chat_ws: Connect,
        jp_root_dir: Path,
        dump: Path,
        many_outputs: bool,
    ) -> None:
        hostile_files.write_output_notebook(dump, 200, many_outputs=many_outputs)
        document = await added_while_chatting(api, chat_ws, "dump.ipynb")
        assert (document["status"], document["pages"]) == ("ready", 2)
        assert await search_paths(api, "photosynthesis measurements") == ["dump.ipynb"]
        # A late line of the dump is never indexed; with many small outputs, the first of
        # them are, up to the notebook's output budget.
        assert await search_paths(api, "02000000") == []
        first_rows = await search_paths(api, "00000001")
        assert first_rows == (["dump.ipynb"] if many_outputs else [])
        last_kept = f"{MAX_NOTEBOOK_OUTPUT_CHARS // 100 - 1:08d}"
        assert await search_paths(api, last_kept) == first_rows
        await assert_others_go_on(api, chat_ws, jp_root_dir)


class TestNotebookOverTheMemoryLimit:
    @pytest.fixture
    def server_config(self) -> dict[str, dict[str, Any]]:
        return {
            "StudyMate": {**WORDS_ONLY, "max_document_bytes": 512 * MiB, "parse_memory": 384 * MiB}
        }

    async def test_it_fails_naming_the_memory_limit(
        self, api: Api, chat_ws: Connect, jp_root_dir: Path, dump: Path
    ) -> None:
        hostile_files.write_output_notebook(dump, 200, many_outputs=True)
        document = await added(api, "dump.ipynb")
        assert_readable(document, "file needs too much memory to parse (over 384 MB)")
        await assert_others_go_on(api, chat_ws, jp_root_dir)


# ---- Markdown with invalid UTF-8 -------------------------------------------------------------


async def test_markdown_with_invalid_utf8_is_indexed_as_written_without_the_bad_bytes(
    api: Api, chat_ws: Connect, jp_root_dir: Path
) -> None:
    (jp_root_dir / "dessert.md").write_bytes(hostile_files.damaged_markdown())
    document = await added(api, "dessert.md")
    assert document["status"] == "ready"
    best = (await api("search?q=caramélisée chalumeau"))["results"][0]
    passage = await api(f"documents/{document['id']}/chunks/{best['chunk_id']}")
    # Every accent as written (no cp1252 mojibake such as "CrÃ¨me"), the bad bytes gone.
    body = "".join(hostile_files.DAMAGED_PIECES).removeprefix("# Crème brûlée\n\n").strip()
    assert body in passage["text"]
    assert passage["heading"] == "Crème brûlée"
    await assert_others_go_on(api, chat_ws, jp_root_dir)


# ---- a symlink swapped in after the path check -----------------------------------------------

SECRET = "The vault code is swordfish-7731, never share it."


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the server's root with a note whose words must never be indexed."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "notes.md").write_text(f"# Notes\n\n{SECRET}\n")
    return folder


@pytest.fixture
def course_notes(jp_root_dir: Path) -> str:
    (jp_root_dir / "course").mkdir()
    (jp_root_dir / "course" / "notes.md").write_text("# Notes\n\nEigenvalues scale vectors.\n")
    return "course/notes.md"


def swap_file(root: Path, outside: Path) -> None:
    (root / "course" / "notes.md").unlink()
    (root / "course" / "notes.md").symlink_to(outside / "notes.md")


def swap_folder(root: Path, outside: Path) -> None:
    (root / "course").rename(root / "course-before")
    (root / "course").symlink_to(outside, target_is_directory=True)


async def assert_secret_never_read(api: Api) -> None:
    for document in (await api("documents"))["documents"]:
        assert document["status"] != "ready", document
    assert await search_paths(api, "vault code swordfish") == []


async def test_a_symlink_swapped_in_after_the_check_is_refused_when_adding(
    api: Api,
    jp_root_dir: Path,
    outside: Path,
    course_notes: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolve = LibraryService.resolve

    def resolve_then_swap(self: LibraryService, relative: str) -> tuple[str, Path]:
        checked = resolve(self, relative)
        swap_file(jp_root_dir, outside)  # the file passed the check; now it leads out
        return checked

    monkeypatch.setattr(LibraryService, "resolve", resolve_then_swap)
    with pytest.raises(HTTPClientError) as refused:
        await api("documents", method="POST", body={"path": course_notes})
    assert refused.value.code == 403
    assert refused.value.response is not None
    assert json.loads(refused.value.response.body) == {"code": "forbidden", "message": REPLACED}
    assert (await api("documents"))["documents"] == []
    await assert_secret_never_read(api)


@pytest.mark.parametrize("swap", [swap_file, swap_folder], ids=["the file", "its folder"])
async def test_a_symlink_swapped_in_before_the_parse_is_never_followed(
    api: Api,
    chat_ws: Connect,
    jp_root_dir: Path,
    outside: Path,
    course_notes: str,
    monkeypatch: pytest.MonkeyPatch,
    swap: Callable[[Path, Path], None],
) -> None:
    ingest = LibraryService._ingest

    async def swap_then_ingest(self: LibraryService, job: IngestJob) -> None:
        swap(jp_root_dir, outside)  # added and hashed as a file in the root; now it leads out
        await ingest(self, job)

    monkeypatch.setattr(LibraryService, "_ingest", swap_then_ingest)
    document = await added(api, course_notes)
    assert_readable(document, REPLACED)
    await assert_secret_never_read(api)
    monkeypatch.undo()
    await assert_others_go_on(api, chat_ws, jp_root_dir)


async def test_a_symlink_inside_the_root_is_still_followed_to_its_file(
    api: Api, jp_root_dir: Path, course_notes: str
) -> None:
    (jp_root_dir / "shortcut.md").symlink_to(jp_root_dir / course_notes)
    document = await added(api, "shortcut.md")
    assert document["status"] == "ready"
    assert await search_paths(api, "eigenvalues") == ["shortcut.md"]


# ---- all at once -----------------------------------------------------------------------------


async def test_hostile_documents_queued_together_each_fail_alone(
    api: Api, jp_root_dir: Path
) -> None:
    files = {
        "bomb.pdf": hostile_files.flate_bomb_pdf(mib=4096),
        "nested.pdf": hostile_files.nested_pdf(10_000, where="page"),
        "dessert.md": hostile_files.damaged_markdown(),
        "calculus.md": CALCULUS_MARKDOWN.encode(),
        "tree.pdf": hostile_files.nested_pdf(10_000, where="page tree"),
    }
    queued = []
    for name, data in files.items():
        (jp_root_dir / name).write_bytes(data)
        queued.append(await api("documents", method="POST", body={"path": name}))
    settled = {
        document["path"]: document["error"] or document["status"]
        for document in [await wait_ready(api, each["id"], timeout=120) for each in queued]
    }
    assert settled == {
        "bomb.pdf": "PDF content too large to decompress",
        "nested.pdf": TOO_DEEP,
        "dessert.md": "ready",
        "calculus.md": "ready",
        "tree.pdf": TOO_DEEP,
    }
