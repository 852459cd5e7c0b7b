"""The course library through a real server, on both backends: an instructor (alice, by
`StudyMate.instructors`) adds a document to it; every user (bob too) is told, lists, reads,
searches and cites it, marked `library: "course"`; only instructors change it, and a
student's own documents stay private."""

from __future__ import annotations

import json
from typing import Any

import pytest
import two_users
from library_calls import NUMBERS_MARKDOWN, wait_ready
from tornado.httpclient import HTTPClientError


@pytest.fixture
def jp_server_config(studymate_db_url: str) -> dict[str, Any]:
    config = two_users.server_config(studymate_db_url)
    config["StudyMate"]["instructors"] = ["alice"]
    return config


@pytest.fixture
def call(jp_fetch):
    async def call(user: str, *path: str, method: str = "GET", body: Any = None, **kwargs: Any):
        if body is not None:
            kwargs["body"] = json.dumps(body)
        headers = {"Authorization": f"token {user}-token"}
        response = await jp_fetch(
            "studymate", "api", *path, method=method, headers=headers, **kwargs
        )
        return json.loads(response.body) if response.body else None

    return call


async def refused(call) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as failed:
        await call
    return failed.value.code, json.loads(failed.value.response.body)["code"]


async def settled(call, user: str, document_id: str) -> dict[str, Any]:
    """The document once `user` sees it indexed, its vector step done."""

    async def api(path: str, **kwargs: Any) -> Any:
        return await call(user, *path.split("/"), **kwargs)

    return await wait_ready(api, document_id)


@pytest.fixture
def numbers(jp_root_dir) -> str:
    (jp_root_dir / "course").mkdir()
    (jp_root_dir / "course" / "numbers.md").write_text(NUMBERS_MARKDOWN)
    return "course/numbers.md"


async def test_an_instructors_course_document_is_read_searched_and_cited_by_every_student(
    call, chat_ws, numbers
):
    bob_ws = await chat_ws(headers={"Authorization": "token bob-token"})
    added = await call(
        "alice", "documents", method="POST", body={"path": numbers, "library": "course"}
    )
    assert added["library"] == "course"
    document = await settled(call, "alice", added["id"])
    assert document["status"] == "ready"

    # Bob was told as it was indexed, and reads it like his own.
    told = await bob_ws.recv_until(
        lambda f: f["type"] == "library" and f["data"]["document"]["status"] == "ready"
    )
    assert told[-1]["data"]["document"]["library"] == "course"
    assert [(d["id"], d["library"]) for d in (await call("bob", "documents"))["documents"]] == [
        (document["id"], "course")
    ]
    assert (await call("bob", "documents", document["id"]))["chunks"] == document["chunks"]

    found = (await call("bob", "search", params={"q": "fundamental theorem of arithmetic"}))[
        "results"
    ]
    assert (found[0]["document_id"], found[0]["library"]) == (document["id"], "course")
    passage = await call("bob", "documents", document["id"], "chunks", found[0]["chunk_id"])
    assert (passage["library"], passage["source"]) == ("course", "current")

    reply = (await bob_ws.reply_to("What is a prime number?"))[-1]["data"]["message"]
    assert reply["status"] == "complete"
    assert {(c["document_id"], c["library"]) for c in reply["citations"]} == {
        (document["id"], "course")
    }


async def test_only_instructors_add_re_index_or_remove_course_documents(call, numbers):
    assert (await call("bob", "me"))["instructor"] is False
    assert (await call("alice", "me"))["instructor"] is True
    body = {"path": numbers, "library": "course"}
    assert await refused(call("bob", "documents", method="POST", body=body)) == (403, "forbidden")
    assert (await call("bob", "documents"))["documents"] == []

    document = await settled(
        call, "alice", (await call("alice", "documents", method="POST", body=body))["id"]
    )
    assert await refused(call("bob", "documents", method="POST", body=body)) == (403, "forbidden")
    assert await refused(call("bob", "documents", document["id"], method="DELETE")) == (
        403,
        "forbidden",
    )
    assert [d["id"] for d in (await call("bob", "documents"))["documents"]] == [document["id"]]

    await call("alice", "documents", document["id"], method="DELETE")
    assert (await call("bob", "documents"))["documents"] == []
    assert await refused(call("bob", "documents", document["id"])) == (404, "not_found")


async def added_to_course(call, path: str) -> dict[str, Any]:
    """Alice (an instructor) adds `path` to the course library; the document once indexed."""
    body = {"path": path, "library": "course"}
    return await settled(
        call, "alice", (await call("alice", "documents", method="POST", body=body))["id"]
    )


async def test_a_students_own_document_beside_the_course_stays_their_own(call, numbers):
    course = await added_to_course(call, numbers)
    # Bob adds the same file to his own library: a document of his, apart from the course's.
    own = await settled(
        call, "bob", (await call("bob", "documents", method="POST", body={"path": numbers}))["id"]
    )
    assert own["id"] != course["id"]
    assert own["library"] == "personal"
    listed = {d["id"]: d["library"] for d in (await call("bob", "documents"))["documents"]}
    assert listed == {course["id"]: "course", own["id"]: "personal"}
    assert [d["id"] for d in (await call("alice", "documents"))["documents"]] == [course["id"]]
    assert await refused(call("alice", "documents", own["id"])) == (404, "not_found")
    assert await refused(call("alice", "documents", own["id"], method="DELETE")) == (
        404,
        "not_found",
    )
    results = (await call("alice", "search", params={"q": "prime number", "k": "10"}))["results"]
    assert {r["document_id"] for r in results} == {course["id"]}


async def test_a_malformed_library_is_a_bad_request(call, numbers):
    body = {"path": numbers, "library": "everyone"}
    assert await refused(call("alice", "documents", method="POST", body=body)) == (
        400,
        "bad_request",
    )


async def test_a_students_chat_limited_to_a_course_folder_draws_on_the_course_documents_in_it(
    call, chat_ws, numbers, jp_root_dir
):
    course = await added_to_course(call, numbers)
    (jp_root_dir / "notes").mkdir()
    (jp_root_dir / "notes" / "primes.md").write_text(
        "# My primes\n\nA prime number is a whole number with exactly two factors; "
        "I list the primes below twenty: two, three, five, seven, eleven, thirteen, "
        "seventeen and nineteen, and check each by trial division.\n"
    )
    own = await settled(
        call,
        "bob",
        (await call("bob", "documents", method="POST", body={"path": "notes/primes.md"}))["id"],
    )
    bob_ws = await chat_ws(headers={"Authorization": "token bob-token"})
    cited = {}
    for folder in ("course", "notes"):
        chat = await call(
            "bob", "chats", method="POST", body={"title": folder, "scope": {"folder": folder}}
        )
        frames = await bob_ws.reply_to("What is a prime number?", chat_id=chat["id"])
        cited[folder] = {c["document_id"] for c in frames[-1]["data"]["message"]["citations"]}
    assert cited == {"course": {course["id"]}, "notes": {own["id"]}}
