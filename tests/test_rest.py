"""Managing chats over REST: list, create, rename, delete, page, export; and how the library
ranks passages."""

from __future__ import annotations

import asyncio
import json

import nbformat
import pytest
from custom_parts import MISSING_SIGNAL_NOTICE
from library_calls import NUMBERS_MARKDOWN, add
from tornado.httpclient import HTTPClientError

from studymate_jupyter.assistant.extractive import EMPTY_LIBRARY


async def error_of(call) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as failed:
        await call
    return failed.value.code, json.loads(failed.value.response.body)


async def test_a_new_chat_is_created_listed_renamed_and_deleted(api, chat_ws):
    chat = await api("chats", method="POST", body={"title": "Linear algebra"})
    assert chat["title"] == "Linear algebra"
    assert chat["message_count"] == 0
    assert chat["created_at"] == chat["updated_at"]

    assert (await api("chats"))["chats"] == [chat]
    assert await api(f"chats/{chat['id']}") == chat

    renamed = await api(f"chats/{chat['id']}", method="PATCH", body={"title": "Algebra I"})
    assert renamed["title"] == "Algebra I"

    assert await api(f"chats/{chat['id']}", method="DELETE") is None
    assert (await api("chats"))["chats"] == []
    status, body = await error_of(api(f"chats/{chat['id']}"))
    assert (status, body["code"]) == (404, "not_found")


async def test_chats_are_listed_newest_activity_first_with_their_message_counts(api, chat_ws):
    old = await api("chats", method="POST", body={"title": "old"})
    new = await api("chats", method="POST", body={"title": "new"})
    assert [c["id"] for c in (await api("chats"))["chats"]] == [new["id"], old["id"]]

    ws = await chat_ws()
    await ws.reply_to("revive the old one", chat_id=old["id"])
    listed = (await api("chats"))["chats"]
    assert [c["id"] for c in listed] == [old["id"], new["id"]]
    assert listed[0]["message_count"] == 2


async def test_deleting_a_chat_deletes_its_messages(api, chat_ws):
    ws = await chat_ws()
    chat_id = (await ws.reply_to("to be forgotten"))[0]["data"]["chat_id"]
    await api(f"chats/{chat_id}", method="DELETE")
    status, _ = await error_of(api(f"chats/{chat_id}/messages"))
    assert status == 404
    await ws.send("load_messages", {"chat_id": chat_id})
    assert (await ws.recv_until(lambda f: f["type"] == "error"))[-1]["data"]["code"] == "not_found"


async def test_messages_are_paged_backwards_with_before_and_has_more(api, chat_ws):
    ws = await chat_ws()
    chat_id = (await ws.reply_to("q1"))[0]["data"]["chat_id"]
    for n in (2, 3):
        await ws.reply_to(f"q{n}", chat_id=chat_id)
    newest = await api(f"chats/{chat_id}/messages?limit=4")
    assert [m["content"] for m in newest["messages"]][::2] == ["q2", "q3"]
    assert newest["has_more"] is True
    older = await api(f"chats/{chat_id}/messages?limit=4&before={newest['messages'][0]['id']}")
    assert [m["content"] for m in older["messages"]] == ["q1", EMPTY_LIBRARY]
    assert older["has_more"] is False


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "chats", {"title": 5}),
        ("POST", "chats", {"title": ""}),
        ("POST", "chats", {"unknown": "field"}),
        ("PATCH", "chats/{id}", {}),
        ("GET", "chats/{id}/messages?limit=0", None),
        ("GET", "chats/{id}/messages?limit=abc", None),
        ("GET", "chats/{id}/export?format=pdf", None),
    ],
)
async def test_bad_requests_get_a_json_error_and_change_nothing(api, method, path, body):
    chat = await api("chats", method="POST", body={"title": "keep"})
    status, error = await error_of(api(path.format(id=chat["id"]), method=method, body=body))
    assert status == 400
    assert error["code"] == "bad_request"
    assert set(error) == {"code", "message"}
    assert (await api("chats"))["chats"] == [chat]


async def test_a_malformed_json_body_is_a_bad_request(jp_fetch):
    status, error = await error_of(
        jp_fetch("studymate", "api", "chats", method="POST", body="{oops")
    )
    assert (status, error["code"]) == (400, "bad_request")


async def test_a_chat_exports_as_markdown_with_its_messages(api, chat_ws, jp_fetch):
    ws = await chat_ws()
    chat_id = (await ws.reply_to("What is entropy?"))[0]["data"]["chat_id"]
    response = await jp_fetch(
        "studymate", "api", "chats", chat_id, "export", params={"format": "markdown"}
    )
    text = response.body.decode()
    assert response.headers["Content-Type"].startswith("text/markdown")
    assert "attachment" in response.headers["Content-Disposition"]
    assert text.startswith("# What is entropy?")
    assert "**You**" in text
    assert EMPTY_LIBRARY in text


async def test_a_chat_exports_as_a_valid_notebook(api, chat_ws, jp_fetch):
    ws = await chat_ws()
    chat_id = (await ws.reply_to("Explain eigenvalues"))[0]["data"]["chat_id"]
    response = await jp_fetch(
        "studymate", "api", "chats", chat_id, "export", params={"format": "ipynb"}
    )
    notebook = nbformat.reads(response.body.decode(), as_version=4)
    nbformat.validate(notebook)
    roles = [c.metadata.get("studymate", {}).get("role") for c in notebook.cells]
    assert roles == [None, "user", "assistant"]
    assert "Explain eigenvalues" in notebook.cells[1].source


async def test_messages_sent_at_once_from_many_connections_are_all_counted(api, chat_ws):
    # They arrive together, so the writer commits them in shared transactions.
    chat = await api("chats", method="POST", body={"title": "crowd"})
    senders = [await chat_ws() for _ in range(5)]
    await asyncio.gather(
        *(
            ws.send(
                "message",
                {
                    "chat_id": chat["id"],
                    "message": {"id": f"m{s}-{n}", "role": "user", "content": "hi"},
                },
            )
            for s, ws in enumerate(senders)
            for n in range(4)
        )
    )
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        page = await api(f"chats/{chat['id']}/messages?limit=100")
        done = [m for m in page["messages"] if m["status"] != "streaming"]
        if len(done) == 40 or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert len(done) == 40, "20 questions and their 20 answers"
    assert (await api(f"chats/{chat['id']}"))["message_count"] == 40


class TestBm25Ranking:
    @pytest.fixture
    def studymate_config(self):
        return {"retriever": "bm25"}

    async def test_the_library_says_how_it_ranks_passages(self, api):
        # BM25 needs nothing more, so there is nothing to tell the user.
        assert await api("retrieval") == {"name": "bm25", "signals": ["bm25"], "notice": None}


async def test_the_default_ranking_is_described_too(api):
    info = await api("retrieval")
    assert set(info) == {"name", "signals", "notice"}
    assert info["name"]
    assert "bm25" in info["signals"]


async def test_how_the_library_ranks_is_not_told_without_authentication(jp_fetch):
    status, error = await error_of(
        jp_fetch("studymate", "api", "retrieval", headers={"Authorization": ""})
    )
    assert (status, error["code"]) == (403, "forbidden")


class TestARetrieverShortOfASignal:
    @pytest.fixture
    def studymate_config(self):
        return {"retriever": "custom_parts:ShortOfSignals"}

    async def test_its_notice_is_served_for_the_library_tab(self, api):
        info = await api("retrieval")
        assert info == {
            "name": "short-of-signals",
            "signals": ["bm25"],
            "notice": MISSING_SIGNAL_NOTICE,
        }


async def test_an_exported_chat_names_a_markdown_citation_by_its_section(
    api, chat_ws, jp_fetch, jp_root_dir
):
    (jp_root_dir / "numbers.md").write_text(NUMBERS_MARKDOWN)
    assert (await add(api, "numbers.md"))["status"] == "ready"
    ws = await chat_ws()
    frames = await ws.reply_to("Which numbers divide twelve without remainder?")
    chat_id = frames[0]["data"]["chat_id"]
    response = await jp_fetch(
        "studymate", "api", "chats", chat_id, "export", params={"format": "markdown"}
    )
    text = response.body.decode()
    assert "- [1] numbers.md § Factors" in text
    assert "numbers.md p." not in text
