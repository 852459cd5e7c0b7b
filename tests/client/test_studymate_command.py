from __future__ import annotations

import pytest

from studymate_jupyter.cli import build_parser
from studymate_jupyter.client import terminal


def test_studymate_chat_takes_a_chat_url_and_token() -> None:
    args = build_parser().parse_args(
        ["chat", "--chat", "c1", "--url", "http://h:1/", "--token", "t"]
    )
    assert (args.chat_id, args.url, args.token) == ("c1", "http://h:1/", "t")
    assert args.handler is terminal.run


def test_a_subcommand_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([])
    assert "COMMAND" in capsys.readouterr().err
