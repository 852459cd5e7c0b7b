"""The study library through a real server: ingest, search, cite, and refuse what is unsafe."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import urllib.parse

import nbformat
import pytest
import two_users
from library.pdfs import corrupt_pdf, encrypted_pdf, image_only_pdf, text_pdf
from library_calls import CALCULUS_MARKDOWN, add, wait_ready
from tornado.httpclient import HTTPClientError

from studymate_jupyter.assistant.extractive import NOTHING_FOUND

# Pages long enough (over 30 words) to be passages of their own, as real course notes are.
PHOTOSYNTHESIS = [
    [
        "Chapter 1. Cells",
        "The cell membrane controls what enters and leaves the cell.",
        "It is a thin double layer of lipids with proteins embedded in it.",
        "Small molecules such as oxygen pass through it freely by diffusion.",
        "Larger molecules need carrier proteins or channels to cross it.",
    ],
    [
        "Chapter 2. Photosynthesis",
        "Photosynthesis converts light energy into chemical energy stored in glucose.",
        "Chlorophyll in the chloroplasts absorbs mostly red and blue light.",
        "Plants take in carbon dioxide through their leaves and release oxygen.",
        "Water is split inside the chloroplast during the light reactions.",
    ],
    [
        "Chapter 3. Respiration",
        "Cellular respiration releases energy from glucose in mitochondria.",
        "The energy is stored in molecules of ATP that the cell spends later.",
        "Respiration needs oxygen and produces carbon dioxide and water as waste.",
        "Without oxygen, cells fall back on fermentation, which yields much less ATP.",
    ],
]


async def error_of(call) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as failed:
        await call
    return failed.value.code, json.loads(failed.value.response.body)["code"]


@pytest.fixture
def biology_pdf(jp_root_dir):
    (jp_root_dir / "biology").mkdir()
    path = jp_root_dir / "biology" / "notes.pdf"
    path.write_bytes(text_pdf(PHOTOSYNTHESIS))
    return "biology/notes.pdf"


async def test_a_pdf_is_indexed_page_by_page_and_its_progress_is_pushed(api, chat_ws, biology_pdf):
    ws = await chat_ws()
    queued = await api("documents", method="POST", body={"path": biology_pdf})
    assert queued["status"] == "queued"
    assert queued["filename"] == "notes.pdf"
    document = await wait_ready(api, queued["id"])
    assert document["status"] == "ready"
    assert document["pages"] == 3
    assert document["chunks"] >= 1
    assert document["size"] > 0
    assert re.fullmatch(r"[0-9a-f]{64}", document["sha256"])

    frames = await ws.recv_until(
        lambda f: f["type"] == "library" and f["data"]["document"]["status"] == "ready"
    )
    statuses = [f["data"]["document"]["status"] for f in frames if f["type"] == "library"]
    assert statuses[0] == "queued"
    assert "indexing" in statuses
    assert (await api("documents"))["documents"] == [document]


async def test_search_finds_the_page_that_answers(api, biology_pdf):
    await add(api, biology_pdf)
    results = (await api("search?q=which light does chlorophyll absorb&k=3"))["results"]
    best = results[0]
    assert (best["filename"], best["page_start"], best["page_end"]) == ("notes.pdf", 2, 2)
    assert "Chlorophyll" in best["snippet"]
    assert best["score"] > 0
    assert best["path"] == biology_pdf


async def test_search_refuses_a_bad_k_or_an_essay_with_a_clear_code(api):
    for query, expected in {
        "q=x&k=0": (400, "bad_request"),
        "q=x&k=51": (400, "bad_request"),
        "q=x&k=five": (400, "bad_request"),
        "q=x&k=-1": (400, "bad_request"),
        f"q={'x' * 4097}": (413, "too_large"),
    }.items():
        assert await error_of(api(f"search?{query}")) == expected
    assert (await api("search?q=x&k=50"))["results"] == []


async def test_search_syntax_in_a_question_is_searched_as_plain_words(api, biology_pdf):
    await add(api, biology_pdf)

    async def pages(query: str) -> list[int]:
        results = (await api(f"search?q={urllib.parse.quote(query)}"))["results"]
        assert {result["path"] for result in results} <= {biology_pdf}
        return [result["page_start"] for result in results]

    # Operators, quotes, column filters and stars around a word: the word's page comes first.
    around_words = {
        'chlorophyll "absorbs': 2,
        "NOT chlorophyll": 2,
        "col:chlorophyll": 2,
        "(chlorophyll": 2,
        "chlorophyll*": 2,
        "mitochondria AND OR NEAR": 3,
        '"fermentation': 3,
        "-membrane ^lipids": 1,
        "NEAR(oxygen diffusion)": 1,
    }
    assert {query: (await pages(query))[:1] for query in around_words} == {
        query: [page] for query, page in around_words.items()
    }
    # Syntax alone, or words the notes do not have: no results, and no error.
    alone = ['say "hi', "NOT", "col:x", "(", "*", "AND OR NEAR", '"', "-x ^y"]
    assert {query: await pages(query) for query in alone} == {query: [] for query in alone}


async def test_an_answer_cites_its_sources_with_markers_that_match(api, chat_ws, biology_pdf):
    await add(api, biology_pdf)
    ws = await chat_ws()
    frames = await ws.reply_to("What does photosynthesis turn light energy into?")
    reply = frames[-1]["data"]["message"]
    assert reply["status"] == "complete"
    citations = reply["citations"]
    assert citations, reply["content"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", reply["content"])}
    assert markers == set(range(1, len(citations) + 1))
    first = citations[0]
    assert (first["filename"], first["page_start"]) == ("notes.pdf", 2)
    assert "chemical energy" in reply["content"]

    chat_id = reply["chat_id"]
    await ws.send("load_messages", {"chat_id": chat_id})
    page = (await ws.recv_until(lambda f: f["type"] == "messages"))[-1]
    assert page["data"]["messages"][-1]["citations"] == citations

    passage = await api(f"documents/{first['document_id']}/chunks/{first['chunk_id']}")
    assert passage["source"] == "current"
    assert "chemical energy" in passage["text"]
    assert passage["page_start"] == 2


async def test_a_question_the_library_cannot_answer_is_answered_honestly(api, chat_ws, biology_pdf):
    await add(api, biology_pdf)
    ws = await chat_ws()
    reply = (await ws.reply_to("Who won the 1998 football world cup?"))[-1]["data"]["message"]
    assert reply["content"] == NOTHING_FOUND
    assert reply["citations"] == []


async def test_a_follow_up_question_uses_the_turn_before_it(api, chat_ws, biology_pdf):
    await add(api, biology_pdf)
    ws = await chat_ws()
    first = (await ws.reply_to("Where does cellular respiration happen?"))[-1]["data"]["message"]
    await ws.recv()  # typing off
    follow = (await ws.reply_to("and glucose?", chat_id=first["chat_id"]))[-1]["data"]["message"]
    assert {c["page_start"] for c in follow["citations"]} & {2, 3}


async def test_markdown_sections_are_pages_with_heading_anchors(api, jp_root_dir):
    (jp_root_dir / "calculus.md").write_text(CALCULUS_MARKDOWN)
    document = await add(api, "calculus.md")
    assert document["status"] == "ready"
    assert document["pages"] == 3
    best = (await api("search?q=chain rule composition"))["results"][0]
    assert best["page_start"] == 2
    assert best["anchor"] == "chain-rule"


async def test_notebook_cells_are_pages_with_cell_id_anchors(api, jp_root_dir):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Lab 1"),
        nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_markdown_cell(
            "Eigenvalues of a symmetric matrix are always real numbers. This is why the "
            "spectral theorem lets us diagonalize a symmetric matrix with an orthogonal basis "
            "of eigenvectors, which makes such matrices easy to work with in practice."
        ),
    ]
    (jp_root_dir / "lab.ipynb").write_text(nbformat.writes(notebook))
    document = await add(api, "lab.ipynb")
    assert document["status"] == "ready"
    best = (await api("search?q=eigenvalues symmetric matrix real"))["results"][0]
    assert best["page_start"] <= 3 <= best["page_end"]
    assert best["anchor"] in {cell.id for cell in notebook.cells}


async def test_re_adding_an_unchanged_file_does_nothing(api, biology_pdf):
    document = await add(api, biology_pdf)
    again = await api("documents", method="POST", body={"path": biology_pdf})
    assert again == document


async def test_a_changed_file_is_re_indexed_and_old_citations_say_so(api, jp_root_dir, biology_pdf):
    document = await add(api, biology_pdf)
    old = (await api("search?q=chlorophyll"))["results"][0]
    (jp_root_dir / biology_pdf).write_bytes(
        text_pdf([["Chapter 1. Genetics", "DNA is a double helix made of nucleotides."]])
    )
    changed = await api("documents", method="POST", body={"path": biology_pdf})
    assert changed["id"] == document["id"]
    changed = await wait_ready(api, changed["id"])
    assert changed["pages"] == 1
    assert changed["sha256"] != document["sha256"]
    assert (await api("search?q=chlorophyll"))["results"] == []
    assert (await api("search?q=double helix"))["results"][0]["page_start"] == 1
    passage = await api(f"documents/{old['document_id']}/chunks/{old['chunk_id']}")
    assert passage["source"] == "changed"
    assert "Chlorophyll" in passage["text"]


async def test_a_removed_document_leaves_search_but_its_citations_still_show(api, biology_pdf):
    document = await add(api, biology_pdf)
    cited = (await api("search?q=chlorophyll"))["results"][0]
    assert await api(f"documents/{document['id']}", method="DELETE") is None
    assert (await api("documents"))["documents"] == []
    assert (await api("search?q=chlorophyll"))["results"] == []
    assert await error_of(api(f"documents/{document['id']}")) == (404, "not_found")
    passage = await api(f"documents/{cited['document_id']}/chunks/{cited['chunk_id']}")
    assert passage["source"] == "removed"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("locked.pdf", encrypted_pdf(), "encrypted PDF"),
        ("scan.pdf", image_only_pdf(), "no extractable text"),
        ("broken.pdf", corrupt_pdf(), "corrupt or unreadable PDF"),
        ("binary.txt", bytes(range(256)) * 8, "binary file"),
    ],
)
async def test_a_bad_file_fails_with_a_clear_reason(api, jp_root_dir, name, content, reason):
    (jp_root_dir / name).write_bytes(content)
    document = await add(api, name)
    assert document["status"] == "failed"
    assert document["error"] == reason


class TestSizeLimit:
    @pytest.fixture
    def studymate_config(self):
        return {"max_document_bytes": 1000}

    async def test_a_file_over_the_size_limit_fails(self, api, biology_pdf):
        document = await add(api, biology_pdf)
        assert document["status"] == "failed"
        assert document["error"].startswith("file too large")


async def test_paths_outside_the_root_hidden_or_odd_are_refused(api, jp_root_dir, tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text("# secret")
    (jp_root_dir / "link.md").symlink_to(outside)
    (jp_root_dir / ".hidden").mkdir()
    (jp_root_dir / ".hidden" / "notes.md").write_text("# hidden")
    (jp_root_dir / "slides.pptx").write_bytes(b"PK")
    cases = {
        "../secret.md": (403, "forbidden"),
        str(outside): (403, "forbidden"),
        "link.md": (403, "forbidden"),
        ".hidden/notes.md": (403, "forbidden"),
        "missing.md": (404, "not_found"),
        "slides.pptx": (400, "bad_request"),
    }
    for path, expected in cases.items():
        assert await error_of(api("documents", method="POST", body={"path": path})) == expected
    assert (await api("documents"))["documents"] == []


async def test_an_absolute_path_inside_the_root_is_added_as_its_relative_path(api, jp_root_dir):
    # What a kernel sends: it knows its notebook's absolute path, not the server's root.
    (jp_root_dir / "course").mkdir()
    (jp_root_dir / "course" / "notes.md").write_text("# Notes\n\nEigenvalues scale vectors.")
    document = await add(api, str(jp_root_dir / "course" / "notes.md"))
    assert document["path"] == "course/notes.md"
    assert document["status"] == "ready"
    # Under the root only until ".." is followed: refused, and nothing is added.
    (jp_root_dir.parent / "secret.md").write_text("# Secret")
    escape = f"{jp_root_dir}/course/../../secret.md"
    assert await error_of(api("documents", method="POST", body={"path": escape})) == (
        403,
        "forbidden",
    )
    assert [d["path"] for d in (await api("documents"))["documents"]] == ["course/notes.md"]


async def test_a_chat_limited_to_a_folder_draws_only_on_it(api, chat_ws, jp_root_dir, biology_pdf):
    (jp_root_dir / "physics").mkdir()
    (jp_root_dir / "physics" / "light.md").write_text(
        "# Light\n\nLight energy travels as electromagnetic waves at a finite speed.\n"
    )
    await add(api, biology_pdf)
    await add(api, "physics/light.md")
    chat = await api("chats", method="POST", body={"title": "Physics"})
    scoped = await api(f"chats/{chat['id']}", method="PATCH", body={"scope": {"folder": "physics"}})
    assert scoped["scope"] == {"folder": "physics", "document_ids": None}
    ws = await chat_ws()
    reply = (await ws.reply_to("What is light energy?", chat_id=chat["id"]))[-1]["data"]["message"]
    assert reply["citations"]
    assert {c["filename"] for c in reply["citations"]} == {"light.md"}


async def test_a_chat_can_be_created_limited_to_chosen_documents(
    api, chat_ws, jp_root_dir, biology_pdf
):
    (jp_root_dir / "light.md").write_text(
        "# Light\n\nLight energy travels as electromagnetic waves at a finite speed.\n"
    )
    biology = await add(api, biology_pdf)
    await add(api, "light.md")
    found = (await api("search?q=What is light energy&k=5"))["results"]
    assert {r["filename"] for r in found} == {"notes.pdf", "light.md"}
    scope = {"folder": None, "document_ids": [biology["id"]]}
    chat = await api("chats", method="POST", body={"title": "Biology", "scope": scope})
    assert chat["scope"] == scope
    assert (await api(f"chats/{chat['id']}"))["scope"] == scope
    ws = await chat_ws()
    reply = (await ws.reply_to("What is light energy?", chat_id=chat["id"]))[-1]["data"]["message"]
    assert {c["filename"] for c in reply["citations"]} == {"notes.pdf"}


async def test_a_malformed_scope_creates_no_chat(api):
    for scope in ({"folder": 3}, {"documents": ["x"]}, "physics", {"document_ids": "x"}):
        response = api("chats", method="POST", body={"scope": scope})
        assert await error_of(response) == (400, "bad_request")
    assert (await api("chats"))["chats"] == []


class TestTwoUsers:
    @pytest.fixture
    def jp_server_config(self, studymate_db_url):
        return two_users.server_config(studymate_db_url)

    async def test_another_users_documents_do_not_exist_for_you(self, jp_fetch, biology_pdf):
        async def call(user, *path, method="GET", body=None):
            kwargs = {"body": json.dumps(body)} if body is not None else {}
            headers = {"Authorization": f"token {user}-token"}
            response = await jp_fetch(
                "studymate", "api", *path, method=method, headers=headers, **kwargs
            )
            return json.loads(response.body) if response.body else None

        document = await call("alice", "documents", method="POST", body={"path": biology_pdf})
        for _ in range(100):
            if (await call("alice", "documents", document["id"]))["status"] == "ready":
                break
            await asyncio.sleep(0.1)
        assert (await call("bob", "documents"))["documents"] == []
        with pytest.raises(HTTPClientError) as missing:
            await call("bob", "documents", document["id"])
        assert missing.value.code == 404
        with pytest.raises(HTTPClientError) as missing:
            await call("bob", "documents", document["id"], method="DELETE")
        assert missing.value.code == 404
        response = await jp_fetch(
            "studymate",
            "api",
            "search",
            params={"q": "chlorophyll"},
            headers={"Authorization": "token bob-token"},
        )
        assert json.loads(response.body)["results"] == []


@pytest.mark.sqlite_only(reason="migration 5's rebuilt FTS5 index is SQLite's")
async def test_passages_indexed_before_the_keywords_column_are_still_found(
    api, biology_pdf, studymate_db
):
    await add(api, biology_pdf)
    # Migration 5 rebuilt the index of existing libraries without book-index keywords.
    with sqlite3.connect(studymate_db) as conn:
        conn.execute("UPDATE chunks_fts SET keywords = NULL")
    results = (await api("search?q=which light does chlorophyll absorb"))["results"]
    assert results[0]["page_start"] == 2


async def test_a_paraphrased_question_finds_its_page_once_the_vectors_are_in(api, biology_pdf):
    document = await add(api, biology_pdf)
    while document["vectors"] == "pending":
        await asyncio.sleep(0.1)
        document = await api(f"documents/{document['id']}")
    assert document["vectors"] == "ready"
    results = (await api("search?q=how do plants make sugar from sunlight&k=1"))["results"]
    assert results[0]["page_start"] == 2
