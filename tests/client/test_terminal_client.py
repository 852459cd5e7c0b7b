"""`studymate chat` driven through a subprocess, as a person at a terminal would use it."""

from __future__ import annotations

import re

from terminal_runs import studymate

from studymate_jupyter.pytest_plugin import ServerProcess

# notes.md is Markdown: a citation is named by its section ("[1] notes.md § Eigenvalues").
CITATION = re.compile(r"^\[1\] notes\.md \u00a7 (Eigenvalues|Determinants)$", re.MULTILINE)


def test_the_terminal_client_streams_a_cited_answer_and_exits_at_end_of_input(
    library_server: ServerProcess,
) -> None:
    asked = studymate(library_server, stdin="What is an eigenvalue?\n")
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("studymate: ")
    assert "eigenvalue" in asked.stdout.lower()
    assert CITATION.search(asked.stdout), asked.stdout

    listed = studymate(library_server, stdin="/chats\n")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    number, chat_id = line.split()[:2]
    assert number == "1"
    assert "(2 messages)" in line

    # Reopening the chat prints its history, with the citations, then leaves at end of input.
    reopened = studymate(library_server, "--chat", chat_id)
    assert reopened.returncode == 0, reopened.stderr
    assert reopened.stdout.startswith("you: What is an eigenvalue?\nstudymate: ")
    assert CITATION.search(reopened.stdout)


def test_a_wrong_token_ends_the_terminal_client_with_an_error(
    library_server: ServerProcess,
) -> None:
    refused = studymate(library_server, "--token", "wrong", stdin="hello\n")
    assert refused.returncode == 2
    assert "forbidden" in refused.stderr
    assert refused.stdout == ""


def test_plain_output_has_no_terminal_styling_and_opens_a_listed_chat_by_number(
    library_server: ServerProcess,
) -> None:
    asked = studymate(library_server, "--plain", stdin="What is a determinant?\n")
    assert asked.returncode == 0, asked.stderr
    # Raw Markdown, exactly as the server sent it: a script can store it as it is.
    assert asked.stdout.startswith("studymate: From your course material:\n\n- ")
    assert CITATION.search(asked.stdout)
    assert "\x1b" not in asked.stdout + asked.stderr

    opened = studymate(library_server, stdin="/chats\n/open 1\n/open 7\n/frobnicate\n")
    assert opened.returncode == 0, opened.stderr
    assert "you: What is a determinant?\nstudymate: From your course material:" in opened.stdout
    assert "no chat 7: /chats lists 1" in opened.stderr
    assert "unknown command /frobnicate; /help lists the commands" in opened.stderr
    assert "\x1b" not in opened.stdout + opened.stderr


def test_help_lists_every_command_on_stdout(library_server: ServerProcess) -> None:
    helped = studymate(library_server, stdin="/help\n")
    assert helped.returncode == 0, helped.stderr
    commands = [line.split()[0] for line in helped.stdout.splitlines()[1:]]
    assert commands == [
        "/new",
        "/chats",
        "/open",
        "/stop",
        "/up",
        "/down",
        "/search",
        "/help",
        "/quit",
    ]
