"""A language model behind an OpenAI-compatible server answers through the same protocol:
grounded in the library, cited, streamed, stoppable, and failing in plain sentences."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from fake_llm import FakeLLM
from library.pdfs import text_pdf
from library_calls import CALCULUS_MARKDOWN, NUMBERS_MARKDOWN, add

from studymate_jupyter.assistant import prompt
from studymate_jupyter.assistant.upstream import CUT_OFF, FAILED_MIDWAY, UNREACHABLE, UNREADABLE
from studymate_jupyter.pytest_plugin import free_port, is_final_reply

KEY = "sk-test-4f1c9e0b7d"
# Matches passages of both notes, so that at least three are sent.
ACROSS_THE_LIBRARY = "factors of numbers, primes, derivatives and integrals"
CITES_THREE_AND_NINE = ["Factors pair up [3]. ", "Primes have two [9]. ", "So [1] and [3]."]


@pytest.fixture
def llm():
    fake = FakeLLM(["The chain rule ", "multiplies ", "derivatives [1]."], delay=0.005)
    yield fake
    fake.close()


@pytest.fixture
def provider(llm) -> dict[str, Any]:
    """OpenAIProvider's settings for the test (override to change them)."""
    return {"base_url": llm.base_url, "model": "fake"}


@pytest.fixture
def server_config(provider):
    return {
        "StudyMate": {"assistant": "openai", "retriever": "bm25"},
        "OpenAIProvider": provider,
    }


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return KEY


def final_reply(frames: list[dict[str, Any]]) -> dict[str, Any]:
    message: dict[str, Any] = frames[-1]["data"]["message"]
    return message


def assert_nothing_leaks(llm: FakeLLM, sent: str, logged: str = "") -> None:
    """No URL, host, port, key or upstream error text in what a client got; no key or
    upstream error text in the log (which names hosts of its own: jupyter-server logs
    every request's client address)."""
    upstream = (KEY, "gpu-7", "Incorrect API")
    for secret in (*upstream, "127.0.0.1", f":{llm.port}", "http://"):
        assert secret not in sent, f"{secret!r} reached a client: {sent[:300]!r}"
    for secret in upstream:
        assert secret not in logged, f"{secret!r} was logged"


async def library_with_notes(api, jp_root_dir) -> None:
    (jp_root_dir / "calculus.md").write_text(CALCULUS_MARKDOWN)
    (jp_root_dir / "numbers.md").write_text(NUMBERS_MARKDOWN)
    assert (await add(api, "calculus.md"))["status"] == "ready"
    assert (await add(api, "numbers.md"))["status"] == "ready"


class TestGroundedAnswers:
    async def test_the_prompt_carries_the_numbered_passages_labelled_with_file_and_section(
        self, api, chat_ws, jp_root_dir, llm
    ):
        await library_with_notes(api, jp_root_dir)
        ws = await chat_ws()
        reply = final_reply(await ws.reply_to("What does the chain rule multiply?"))
        assert reply["status"] == "complete"
        assert reply["content"] == "The chain rule multiplies derivatives [1]."
        [sent] = llm.completions
        system, question = sent.messages[0], sent.messages[-1]
        assert system["role"] == "system"
        assert "Answer only from the numbered passages" in system["content"]
        assert '[1] (calculus.md, section "Chain rule")' in system["content"]
        assert "by multiplying derivatives" in system["content"]
        assert question == {"role": "user", "content": "What does the chain rule multiply?"}
        assert (sent.body["model"], sent.body["stream"]) == ("fake", True)
        [cited] = reply["citations"]
        assert (cited["filename"], cited["section"]) == ("calculus.md", "Chain rule")

    async def test_a_pdf_passage_is_labelled_with_its_pages(self, api, chat_ws, jp_root_dir, llm):
        (jp_root_dir / "lecture.pdf").write_bytes(
            text_pdf(
                [
                    ["Linear algebra lecture notes for the spring term, chapter one."],
                    [
                        "Eigenvalues scale eigenvectors: a matrix times an eigenvector gives",
                        "the same vector multiplied by its eigenvalue.",
                    ],
                ]
            )
        )
        assert (await add(api, "lecture.pdf"))["status"] == "ready"
        ws = await chat_ws()
        await ws.reply_to("What do eigenvalues do to eigenvectors?")
        system = llm.completions[0].messages[0]["content"]
        # Both pages are short: one passage holds them.
        assert "[1] (lecture.pdf, pages 1\u20132)\nLinear algebra lecture notes" in system

    async def test_the_conversation_so_far_goes_with_the_question_without_old_markers(
        self, api, chat_ws, jp_root_dir, llm
    ):
        await library_with_notes(api, jp_root_dir)
        ws = await chat_ws()
        first = await ws.reply_to("What does the chain rule multiply?")
        chat_id = first[0]["data"]["chat_id"]
        llm.pieces = ["Integrals accumulate area [1]."]
        await ws.reply_to("And integrals?", chat_id=chat_id)
        turns = llm.completions[-1].messages[1:]
        assert turns == [
            {"role": "user", "content": "What does the chain rule multiply?"},
            {"role": "assistant", "content": "The chain rule multiplies derivatives."},
            {"role": "user", "content": "And integrals?"},
        ]

    async def test_markers_are_renumbered_to_the_passages_cited_in_order_of_first_use(
        self, api, chat_ws, jp_root_dir, llm
    ):
        await library_with_notes(api, jp_root_dir)
        llm.pieces = CITES_THREE_AND_NINE
        full = await chat_ws()
        delta = await chat_ws()
        reply = final_reply(await full.reply_to(ACROSS_THE_LIBRARY))
        sent = llm.completions[0].messages[0]["content"]
        passages = [line for line in sent.splitlines() if line.startswith("[")]
        assert len(passages) >= 3
        assert reply["content"] == "Factors pair up [1]. Primes have two. So [2] and [1]."
        third, first = (passages[2], passages[0])
        cited = [
            f'[{n}] ({c["filename"]}, section "{c["section"]}")'
            for n, c in (
                (3, reply["citations"][0]),
                (1, reply["citations"][1]),
            )
        ]
        assert cited == [third, first]
        # A delta client that followed the stream ends with the same text.
        await delta.send("auth", {"chat_id": reply["chat_id"], "stream": "delta"})
        await delta.recv_until(lambda f: f["type"] == "auth_ok")
        await delta.send("load_messages", {"chat_id": reply["chat_id"]})
        page = await delta.recv_until(lambda f: f["type"] == "messages")
        assert page[-1]["data"]["messages"][-1]["content"] == reply["content"]

    async def test_a_delta_client_gets_the_renumbered_text_at_the_end_of_the_stream(
        self, api, chat_ws, jp_root_dir, llm
    ):
        await library_with_notes(api, jp_root_dir)
        llm.pieces = CITES_THREE_AND_NINE
        ws = await chat_ws()
        await ws.send("auth", {"stream": "delta"})
        await ws.recv_until(lambda f: f["type"] == "auth_ok")
        question = {"id": "q", "role": "user", "content": ACROSS_THE_LIBRARY}
        await ws.send("message", {"message": question})
        content = ""
        while True:
            frame = await ws.recv()
            if frame["type"] == "message" and frame["data"]["message"]["role"] == "assistant":
                content = frame["data"]["message"]["content"]
            elif frame["type"] == "message_delta":
                data = frame["data"]
                content = content[: data["offset"]] + data["text"]
                if "status" in data:
                    break
        assert content == "Factors pair up [1]. Primes have two. So [2] and [1]."
        assert len(data["citations"]) == 2

    async def test_an_answer_that_cites_nothing_keeps_no_citations(
        self, api, chat_ws, jp_root_dir, llm
    ):
        await library_with_notes(api, jp_root_dir)
        llm.pieces = ["It multiplies ", "derivatives."]
        ws = await chat_ws()
        reply = final_reply(await ws.reply_to("What does the chain rule multiply?"))
        assert reply["content"] == "It multiplies derivatives."
        assert reply["citations"] == []

    async def test_with_nothing_relevant_the_model_is_told_so_and_the_reply_says_so(
        self, chat_ws, llm
    ):
        llm.pieces = ["Paris."]
        ws = await chat_ws()
        reply = final_reply(await ws.reply_to("What is the capital of France?"))
        assert reply["content"] == prompt.WITHOUT_MATERIAL + "Paris."
        assert reply["citations"] == []
        system = llm.completions[0].messages[0]["content"]
        assert "Nothing in the student's course material matches" in system


class TestStreaming:
    async def test_a_fast_stream_arrives_whole_in_coalesced_frames(self, chat_ws, llm):
        llm.pieces, llm.delay = [f"t{n} " for n in range(2000)], 0
        ws = await chat_ws()
        frames = await ws.reply_to("hello")
        replies = [
            f
            for f in frames
            if f["type"] == "message" and f["data"]["message"]["role"] == "assistant"
        ]
        assert final_reply(frames)["content"] == prompt.WITHOUT_MATERIAL + "".join(llm.pieces)
        assert len(replies) < 200, "2000 tokens are not 2000 frames"

    async def test_a_slow_stream_shows_its_text_as_it_comes(self, chat_ws, llm):
        llm.pieces, llm.delay = [f"s{n} " for n in range(10)], 0.1
        ws = await chat_ws()
        frames = await ws.reply_to("hello")
        grown = [
            f["data"]["message"]["content"]
            for f in frames
            if f["type"] == "message" and f["data"]["message"]["role"] == "assistant"
        ]
        assert len(set(grown)) >= 5, "the text grew in several steps"


class TestAHistoryOverTheBudget:
    @pytest.fixture
    def provider(self, llm):
        return {"base_url": llm.base_url, "model": "fake", "max_context_tokens": 700}

    async def test_keeps_the_newest_turns_that_fit_and_every_passage_whole(
        self, api, chat_ws, jp_root_dir, llm
    ):
        await library_with_notes(api, jp_root_dir)
        ws = await chat_ws()
        chat_id = None
        for n in range(6):
            llm.pieces = [f"Answer {n}: " + "filler words " * 40]
            frames = await ws.reply_to(f"Question {n}: " + "more words " * 30, chat_id=chat_id)
            chat_id = frames[0]["data"]["chat_id"]
        llm.pieces = ["Done."]
        await ws.reply_to("What does the chain rule multiply?", chat_id=chat_id)
        messages = llm.completions[-1].messages
        system, *turns, question = messages
        assert "by multiplying derivatives: the" in system["content"], "passages are whole"
        assert question["content"] == "What does the chain rule multiply?"
        assert 0 < len(turns) < 12, "some turns were left out, not all"
        assert "Answer 5:" in turns[-1]["content"], "the newest turns are kept"
        assert turns[0]["role"] == "user" or len(turns) % 2 == 1
        used = sum(prompt.approx_tokens(m["content"]) for m in messages)
        assert used <= 700


class TestTheKey:
    async def test_is_sent_in_the_authorization_header_only(
        self, api, chat_ws, jp_root_dir, llm, caplog
    ):
        caplog.set_level(logging.DEBUG)
        await library_with_notes(api, jp_root_dir)
        ws = await chat_ws()
        await ws.reply_to("What does the chain rule multiply?")
        [sent] = llm.completions
        assert sent.headers["Authorization"] == f"Bearer {KEY}"
        assert KEY not in json.dumps(sent.body)
        info = await api("assistant")
        assert_nothing_leaks(llm, json.dumps([ws.seen, info]), caplog.text)

    async def test_is_read_from_the_environment_at_each_request(self, chat_ws, llm, monkeypatch):
        ws = await chat_ws()
        monkeypatch.setenv("OPENAI_API_KEY", "sk-rotated")
        await ws.reply_to("hello")
        assert llm.completions[-1].headers["Authorization"] == "Bearer sk-rotated"
        monkeypatch.delenv("OPENAI_API_KEY")
        await ws.reply_to("hello again")
        assert "Authorization" not in llm.completions[-1].headers


class TestAKeyVariableOfItsOwn:
    @pytest.fixture
    def provider(self, llm):
        return {"base_url": llm.base_url, "model": "fake", "api_key_env": "COURSE_LLM_KEY"}

    async def test_names_where_the_key_is(self, chat_ws, llm, monkeypatch):
        monkeypatch.setenv("COURSE_LLM_KEY", "sk-course")
        ws = await chat_ws()
        await ws.reply_to("hello")
        assert llm.completions[-1].headers["Authorization"] == "Bearer sk-course"


class TestStop:
    async def test_stop_closes_the_upstream_request_and_keeps_the_partial_reply(self, chat_ws, llm):
        llm.pieces = [f"word{n} " for n in range(400)]
        llm.delay = 0.02
        ws = await chat_ws()
        await ws.send("message", {"message": {"id": "q", "role": "user", "content": "go"}})
        frames = await ws.recv_until(
            lambda f: f["type"] == "message" and "word5 " in f["data"]["message"]["content"]
        )
        await ws.send("stop", {"chat_id": frames[0]["data"]["chat_id"]})
        await asyncio.wait_for(llm.client_left.wait(), 2)
        sent_when_closed = llm.sent
        reply = final_reply(await ws.recv_until(is_final_reply))
        assert reply["status"] == "stopped"
        assert "word5 " in reply["content"]
        await asyncio.sleep(0.2)
        assert llm.sent == sent_when_closed < 100, "the model server stopped sending"


REFUSALS = [
    (401, None, "The model server refused the key in OPENAI_API_KEY."),
    (403, None, "The model server refused the key in OPENAI_API_KEY."),
    (
        404,
        None,
        'The model server does not know the model "fake" (check OpenAIProvider.model and '
        "base_url).",
    ),
    (429, "20", "The model server is busy: try again in 20 seconds."),
    (429, None, "The model server is busy: try again in a moment."),
    (500, None, "The model server failed (HTTP 500): try again later."),
    (503, None, "The model server failed (HTTP 503): try again later."),
]


class TestFailures:
    @pytest.mark.parametrize(("status", "retry_after", "sentence"), REFUSALS)
    async def test_a_refusal_ends_the_reply_with_a_plain_sentence_and_the_chat_goes_on(
        self, chat_ws, llm, caplog, status, retry_after, sentence
    ):
        llm.status, llm.retry_after = status, retry_after
        ws = await chat_ws()
        failed = final_reply(await ws.reply_to("hello"))
        assert (failed["status"], failed["content"]) == ("error", sentence)
        assert_nothing_leaks(llm, json.dumps(ws.seen), caplog.text)
        llm.status = 200
        llm.pieces = ["Back again."]
        again = final_reply(await ws.reply_to("hello again", chat_id=failed["chat_id"]))
        assert (again["status"], again["content"]) == (
            "complete",
            prompt.WITHOUT_MATERIAL + "Back again.",
        )

    async def test_without_a_key_a_refusal_says_where_to_put_one(self, chat_ws, llm, monkeypatch):
        monkeypatch.delenv("OPENAI_API_KEY")
        llm.status = 401
        ws = await chat_ws()
        failed = final_reply(await ws.reply_to("hello"))
        assert failed["content"] == (
            "The model server wants a key: put it in the environment variable OPENAI_API_KEY "
            "of the Jupyter server and ask again."
        )

    @pytest.mark.parametrize(
        ("ending", "sentence"),
        [
            ("disconnect", CUT_OFF),
            ("malformed", UNREADABLE),
            ("error-event", FAILED_MIDWAY),
        ],
    )
    async def test_a_stream_that_breaks_keeps_what_came_and_says_what_failed(
        self, chat_ws, llm, caplog, ending, sentence
    ):
        llm.pieces = ["one ", "two ", "three ", "four"]
        llm.fail_after, llm.ending = 2, ending
        ws = await chat_ws()
        failed = final_reply(await ws.reply_to("hello"))
        assert failed["status"] == "error"
        assert failed["content"] == f"{prompt.WITHOUT_MATERIAL}one two\n\n{sentence}"
        assert_nothing_leaks(llm, json.dumps(ws.seen), caplog.text)
        llm.fail_after = None
        again = final_reply(await ws.reply_to("again", chat_id=failed["chat_id"]))
        assert again["status"] == "complete"

    async def test_a_stream_that_ends_without_done_is_cut_off(self, chat_ws, llm):
        llm.pieces, llm.ending = ["partial"], "no-done"
        ws = await chat_ws()
        failed = final_reply(await ws.reply_to("hello"))
        assert failed["status"] == "error"
        assert failed["content"].endswith(f"partial\n\n{CUT_OFF}")


class TestTimeouts:
    @pytest.fixture
    def provider(self, llm):
        return {"base_url": llm.base_url, "model": "fake", "timeout": 0.5}

    async def test_a_model_that_does_not_start_answering_in_time_fails_the_reply(
        self, chat_ws, llm
    ):
        llm.first_delay = 3
        ws = await chat_ws()
        started = asyncio.get_running_loop().time()
        failed = final_reply(await ws.reply_to("hello"))
        assert asyncio.get_running_loop().time() - started < 2.5
        assert failed["status"] == "error"
        assert failed["content"] == "The model server did not start answering within 0.5 seconds."

    async def test_a_model_that_stalls_between_tokens_fails_the_reply(self, chat_ws, llm):
        llm.pieces, llm.delay = ["slow ", "slower"], 2
        ws = await chat_ws()
        failed = final_reply(await ws.reply_to("hello"))
        assert failed["status"] == "error"
        assert failed["content"].endswith(
            "slow\n\nThe model server sent nothing for 0.5 seconds; the answer stops here."
        )

    async def test_a_slow_stream_within_the_timeout_completes(self, chat_ws, llm):
        llm.pieces, llm.delay = [f"w{n} " for n in range(8)], 0.2
        ws = await chat_ws()
        reply = final_reply(await ws.reply_to("hello"))
        assert reply["status"] == "complete"
        assert reply["content"].endswith("w0 w1 w2 w3 w4 w5 w6 w7 ")


class TestAModelServerThatIsNotRunning:
    @pytest.fixture
    def provider(self):
        return {"base_url": f"http://127.0.0.1:{free_port()}/v1", "model": "fake"}

    async def test_a_question_gets_a_reply_that_says_it_could_not_be_reached(self, chat_ws, api):
        ws = await chat_ws()
        failed = final_reply(await ws.reply_to("hello"))
        assert failed["status"] == "error"
        assert failed["content"] == UNREACHABLE
        info = await api("assistant")
        assert info == {"name": "openai", "model": "fake", "ready": False, "detail": UNREACHABLE}


class TestTheAssistantEndpoint:
    async def test_says_which_model_answers_when_the_server_lists_it(self, api, llm):
        assert await api("assistant") == {
            "name": "openai",
            "model": "fake",
            "ready": True,
            "detail": "fake answers, from the passages of your library.",
        }
        assert llm.received[-1].headers["Authorization"] == f"Bearer {KEY}"

    async def test_says_when_the_model_server_lacks_the_model(self, api, llm):
        llm.models = ["llama3.1:8b", "qwen2.5:7b"]
        info = await api("assistant")
        assert (info["ready"], info["detail"]) == (
            False,
            'The model server has no model "fake" (it has: llama3.1:8b, qwen2.5:7b).',
        )

    async def test_takes_a_server_that_lists_no_models_at_its_word(self, api, llm):
        llm.models = None
        info = await api("assistant")
        assert info["ready"] is True

    async def test_says_when_the_key_is_refused(self, api, llm):
        llm.status = 401
        info = await api("assistant")
        assert (info["ready"], info["detail"]) == (
            False,
            "The model server refused the key in OPENAI_API_KEY.",
        )
        assert_nothing_leaks(llm, json.dumps(info))


class TestTheOfflineAssistant:
    @pytest.fixture
    def server_config(self):
        return {}

    async def test_is_ready_and_uses_no_model(self, api):
        assert await api("assistant") == {
            "name": "extractive",
            "model": None,
            "ready": True,
            "detail": "Answers offline, with sentences quoted from the passages of your library.",
        }


class TestTheDeprecatedSettings:
    @pytest.fixture
    def server_config(self, llm):
        return {
            "StudyMate": {
                "assistant": "openai",
                "openai_base_url": llm.base_url,
                "openai_model": "fake",
                "openai_api_key": "sk-from-config",
            }
        }

    async def test_still_work_for_this_release_and_say_what_replaces_them(
        self, capfd, chat_ws, llm, caplog
    ):
        ws = await chat_ws()
        reply = final_reply(await ws.reply_to("hello"))
        assert reply["status"] == "complete"
        [sent] = llm.completions
        assert sent.body["model"] == "fake"
        assert sent.headers["Authorization"] == "Bearer sk-from-config"
        # Said when the server started, in the StudyMate log (capfd: it writes to stderr).
        logged = capfd.readouterr().err
        assert "StudyMate.openai_base_url is deprecated" in logged
        assert "set OpenAIProvider.base_url instead" in logged
        assert "StudyMate.openai_api_key is deprecated" in logged
        # (jupyter-server's own debug log prints the whole config, this key with it: one
        # reason the key moved to the environment.)
        ours = [line for line in logged.splitlines() if " StudyMate]" in line]
        assert "sk-from-config" not in "\n".join(ours) + caplog.text
