"""Search through a real server on both backends: SQLite's FTS5 and PostgreSQL's tsvector
(schema revision 8), each with the bm25 and the hybrid retriever, answering the same way."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from library_calls import NUMBERS_MARKDOWN, add
from sqlalchemy import create_engine, text

# Every piece of tsquery and FTS5 syntax a person might paste into a question.
SYNTAX = [
    "a & !b | (c",
    "prime & !factor | (twelve",
    '"unbalanced quote',
    "prime:* factor:AB <-> twelve",
    "'); DROP TABLE chunks;--",
    "NEAR(prime factor) AND OR NOT -twelve",
    "\\ ' '' :: & | ! ( ) <2>",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, studymate_db: Any) -> str:
    """These tests live beside the ranking tests, which stay on SQLite, so they choose both
    backends here themselves."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        return str(url.render_as_string(hide_password=False))
    return f"sqlite:///{studymate_db}"


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], backend_url: str) -> dict[str, Any]:
    return {
        **jp_server_config,
        "StudyMate": {**jp_server_config["StudyMate"], "db_url": backend_url},
    }


@pytest.fixture(params=["bm25", "hybrid"])
def studymate_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"retriever": request.param}


@pytest.fixture
def numbers(jp_root_dir: Any) -> str:
    (jp_root_dir / "maths").mkdir()
    (jp_root_dir / "maths" / "numbers.md").write_text(NUMBERS_MARKDOWN)
    return "maths/numbers.md"


def indexed_rows(url: str) -> int:
    """Chunks in the words index: chunks_fts on SQLite, chunk_search on PostgreSQL."""
    engine = create_engine(url)
    try:
        table = "chunk_search" if engine.dialect.name == "postgresql" else "chunks_fts"
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


async def test_a_citation_names_the_document_and_the_section_that_answers(api, chat_ws, numbers):
    document = await add(api, numbers)
    question = "what does the fundamental theorem of arithmetic say"
    results = (await api(f"search?q={question}&k=2"))["results"]
    assert (results[0]["document_id"], results[0]["page_start"]) == (document["id"], 2)
    assert results[0]["anchor"] == "primes"
    ws = await chat_ws()
    reply = (await ws.reply_to("What is a prime number?"))[-1]["data"]["message"]
    assert reply["status"] == "complete"
    first = reply["citations"][0]
    assert (first["document_id"], first["filename"], first["page_start"]) == (
        document["id"],
        "numbers.md",
        2,
    )


async def test_a_chats_scope_limits_search_to_its_folder_or_documents(
    api, chat_ws, jp_root_dir, numbers
):
    (jp_root_dir / "other.md").write_text(
        "# Prime movers\n\nA prime mover is the engine that drives a machine, whose factor of "
        "safety tells how far beyond its load it may run before it fails.\n"
    )
    maths = await add(api, numbers)
    other = await add(api, "other.md")
    found = (await api("search?q=prime factor&k=5"))["results"]
    assert {r["filename"] for r in found} == {"numbers.md", "other.md"}
    ws = await chat_ws()
    for scope, filename in (
        ({"folder": "maths"}, "numbers.md"),
        ({"document_ids": [other["id"]]}, "other.md"),
        ({"document_ids": [maths["id"]]}, "numbers.md"),
    ):
        chat = await api("chats", method="POST", body={"title": "scoped", "scope": scope})
        reply = (await ws.reply_to("prime factor", chat_id=chat["id"]))[-1]["data"]["message"]
        assert {c["filename"] for c in reply["citations"]} == {filename}, scope


async def test_retired_chunks_leave_search_and_the_index(api, jp_root_dir, numbers, backend_url):
    document = await add(api, numbers)
    assert indexed_rows(backend_url) == document["chunks"]
    (jp_root_dir / numbers).write_text(
        "# Fractions\n\nA fraction is a quotient of two whole numbers, a numerator over a "
        "denominator, and equal fractions reduce to one in lowest terms by their common divisor.\n"
    )
    changed = await add(api, numbers)
    assert changed["sha256"] != document["sha256"]
    assert (await api("search?q=prime"))["results"] == []
    assert (await api("search?q=denominator"))["results"][0]["page_start"] == 1
    assert indexed_rows(backend_url) == changed["chunks"]
    await api(f"documents/{document['id']}", method="DELETE")
    assert (await api("search?q=denominator"))["results"] == []
    assert indexed_rows(backend_url) == 0


async def test_a_question_full_of_query_syntax_is_answered_without_an_error(api, chat_ws, numbers):
    await add(api, numbers)
    for question in SYNTAX:
        found = await api(f"search?q={urllib.parse.quote(question)}")
        assert set(found) == {"results"}, question
    found = (await api(f"search?q={urllib.parse.quote(SYNTAX[1])}"))["results"]
    assert found
    assert found[0]["filename"] == "numbers.md"
    ws = await chat_ws()
    for question in SYNTAX:
        reply = (await ws.reply_to(question))[-1]["data"]["message"]
        assert reply["status"] == "complete", question


async def test_message_search_marks_its_matches_and_reads_syntax_as_words(api, chat_ws):
    ws = await chat_ws()
    await ws.reply_to("How do primes relate to factorization?")
    await ws.reply_to("Something about fractions instead")
    found = await api("messages/search?q=prime factor")
    assert [r["role"] for r in found["results"]][:1] == ["user"]
    first = found["results"][0]
    assert first["snippet"].startswith("How do primes relate to factorization")
    marked = {first["snippet"][start:end].lower() for start, end in first["marks"]}
    assert marked == {"primes", "factorization"}
    # The last term is also a prefix, as a search box searches while one types.
    typed = await api("messages/search?q=fract")
    assert [r["snippet"] for r in typed["results"]] == ["Something about fractions instead"]
    for question in SYNTAX:
        found = await api("messages/search", params={"q": question})
        assert set(found) == {"results", "has_more"}, question
