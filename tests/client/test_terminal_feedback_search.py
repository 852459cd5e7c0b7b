"""`studymate chat` rating answers (/up, /down with a note) and searching one's messages
(/search), piped as a script would and at a real terminal, against a real server."""

from __future__ import annotations

import re
from typing import Any

import pexpect
from terminal_runs import at_a_terminal, studymate

from studymate_jupyter.pytest_plugin import ServerProcess

#: The heading of a hit: chat title · who wrote it · local time.
HIT = re.compile(r"^What is an eigenvalue\? · (you|studymate) · \d{4}-\d\d-\d\d \d\d:\d\d$", re.M)
BOLD = r"\x1b\[[0-9;]*(?<![0-9])1(?:;[0-9;]*)?m"


def only_chat(server: ServerProcess) -> dict[str, Any]:
    [chat] = server.get("studymate/api/chats")["chats"]
    chat_: dict[str, Any] = chat
    return chat_


def last_answer(server: ServerProcess, chat_id: str) -> dict[str, Any]:
    messages = server.get(f"studymate/api/chats/{chat_id}/messages")["messages"]
    answer: dict[str, Any] = [m for m in messages if m["role"] == "assistant"][-1]
    return answer


def test_up_and_down_rate_the_last_answer_and_a_note_is_kept_with_the_rating(
    library_server: ServerProcess,
) -> None:
    asked = studymate(library_server, stdin="What is an eigenvalue?\n/up\n")
    assert asked.returncode == 0, asked.stderr
    assert "rated the last answer helpful\n" in asked.stderr
    chat_id = only_chat(library_server)["id"]
    assert last_answer(library_server, chat_id)["feedback"] == {"rating": "up", "note": None}

    note = 'It skips the characteristic polynomial <b>&</b> "why"'
    redone = studymate(library_server, "--chat", chat_id, stdin=f"/down {note}\n")
    assert redone.returncode == 0, redone.stderr
    assert "rated the last answer not helpful with your note" in redone.stderr
    assert last_answer(library_server, chat_id)["feedback"] == {"rating": "down", "note": note}

    fresh = studymate(library_server, stdin="/up\n/down too long " + "x" * 1000 + "\n")
    assert fresh.returncode == 0, fresh.stderr
    assert "no answer to rate yet in this chat" in fresh.stderr
    assert "a note is at most 1000 characters" in fresh.stderr
    assert last_answer(library_server, chat_id)["feedback"] == {"rating": "down", "note": note}


def test_search_prints_each_hits_chat_role_time_and_words_and_takes_any_text(
    library_server: ServerProcess,
) -> None:
    studymate(library_server, stdin="What is an eigenvalue?\n")
    hostile = 'AND OR NOT * ( ) " NEAR'
    searched = studymate(
        library_server, stdin=f"/search eigenval\n/search {hostile}\n/search zzzqx\n/search\n"
    )
    assert searched.returncode == 0, searched.stderr
    assert HIT.search(searched.stdout), searched.stdout
    assert "\n    What is an eigenvalue?\n" in searched.stdout
    assert "\x1b" not in searched.stdout
    assert "no message of yours has 'zzzqx'" in searched.stderr
    assert "/search takes the words to find" in searched.stderr
    assert "error" not in searched.stderr, searched.stderr


def test_at_a_terminal_search_shows_the_matched_words_bold(
    library_server: ServerProcess,
) -> None:
    studymate(library_server, stdin="What is an eigenvalue?\n")
    child = at_a_terminal(library_server)
    try:
        child.expect_exact("/help for commands")
        child.send("/search eigenvalue\r")
        child.expect_exact("· you ·")
        child.expect_exact("/help for commands")
        shown = str(child.before)
        assert re.search(rf"What is an {BOLD}eigenvalue", shown), shown
        child.send("/help\r")
        child.expect_exact("(so does end of input, Ctrl-D)")
        helped = re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]", "", str(child.before)).replace("\r", "")
        for command in ("/up [NOTE]", "/down [NOTE]", "/search Q"):
            assert f"  {command} " in helped, helped
        child.send("/quit\r")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.terminate(force=True)


def test_a_reply_printed_at_a_terminal_is_read_and_a_piped_one_is_not(
    library_server: ServerProcess,
) -> None:
    studymate(library_server, stdin="What is an eigenvalue?\n")
    chat = only_chat(library_server)
    assert chat["unread"] == 1, "a script's output is nobody's reading"
    child = at_a_terminal(library_server, "--chat", chat["id"])
    try:
        child.expect_exact("/help for commands")  # the chat's history is on screen
        for _ in range(100):
            if only_chat(library_server)["unread"] == 0:
                break
            child.expect(pexpect.TIMEOUT, timeout=0.1)
        read = only_chat(library_server)
        assert (read["unread"], read["read_up_to"]) == (
            0,
            last_answer(library_server, chat["id"])["id"],
        )
        child.send("And what is an eigenvector?\r")
        child.expect_exact("[1]")
        for _ in range(100):
            latest = last_answer(library_server, chat["id"])
            if only_chat(library_server)["read_up_to"] == latest["id"]:
                break
            child.expect(pexpect.TIMEOUT, timeout=0.1)
        assert only_chat(library_server)["unread"] == 0
        child.send("/quit\r")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.terminate(force=True)
