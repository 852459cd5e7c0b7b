from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from studymate_jupyter.client import ServerInfo, ServerNotFound, discover_running
from studymate_jupyter.client.discovery import from_arguments, normalize_url, pick_server


def test_any_pasted_url_becomes_the_servers_base_url_and_token() -> None:
    assert normalize_url("http://h:8888/lab?token=abc") == ("http://h:8888/", "abc")
    assert normalize_url("ws://h:8888/base/ws/chat") == ("http://h:8888/base/", None)
    assert normalize_url("wss://h/x/studymate/api/chats") == ("https://h/x/", None)
    assert normalize_url("localhost:9999") == ("http://localhost:9999/", None)


def test_server_info_builds_the_websocket_and_api_urls() -> None:
    server = ServerInfo("https://hub.example/user/ann/", "t")
    assert server.ws_url == "wss://hub.example/user/ann/ws/chat"
    assert server.api_url("chats") == "https://hub.example/user/ann/studymate/api/chats"


def test_explicit_arguments_win_over_the_environment() -> None:
    env = {"STUDYMATE_URL": "http://env:1/", "STUDYMATE_TOKEN": "envtoken"}
    assert from_arguments("http://arg:2/", "argtoken", env) == ServerInfo(
        "http://arg:2/", "argtoken"
    )
    assert from_arguments(None, None, env) == ServerInfo("http://env:1/", "envtoken")


def test_jupyter_token_is_accepted_when_studymate_token_is_unset() -> None:
    env = {"STUDYMATE_URL": "http://env:1/", "JUPYTER_TOKEN": "jt"}
    assert from_arguments(None, None, env) == ServerInfo("http://env:1/", "jt")


def test_without_url_argument_or_variable_the_server_is_discovered() -> None:
    assert from_arguments(None, "t", {}) is None


def test_the_server_whose_root_holds_the_working_directory_is_chosen(tmp_path: Path) -> None:
    nested = tmp_path / "course" / "week1"
    nested.mkdir(parents=True)
    servers = [
        {"url": "http://a:1/", "token": "a", "root_dir": str(tmp_path)},
        {"url": "http://b:2/", "token": "b", "root_dir": str(tmp_path / "course")},
        {"url": "http://c:3/", "token": "c", "root_dir": str(tmp_path / "elsewhere")},
    ]
    assert pick_server(servers, nested) == servers[1]
    found = asyncio.run(discover_running(servers, cwd=nested, kid=""))
    assert found == ServerInfo("http://b:2/", "b")


def test_no_running_server_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServerNotFound, match="no running Jupyter server"):
        asyncio.run(discover_running([], cwd=tmp_path, kid=""))
