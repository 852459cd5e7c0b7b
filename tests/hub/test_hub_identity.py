"""On JupyterHub, StudyMate's user is the hub user, and each user reaches only their own."""

from __future__ import annotations

import uuid

import pytest
from hub_process import USERS, HubProcess
from tornado.httpclient import HTTPClientError

from studymate_jupyter.pytest_plugin import is_final_reply


@pytest.mark.parametrize("name", USERS)
async def test_each_users_studymate_names_the_hub_user(hub: HubProcess, name: str):
    status, me = hub.studymate(name, "GET", "me")
    assert (status, me["user_id"]) == (200, name)
    client = await hub.connect(name)
    await client.send("auth", {})
    frame = await client.recv()
    assert frame == {"type": "auth_ok", "data": {"user_id": name}}


def test_the_hub_has_the_instructor_in_the_instructors_group(hub: HubProcess):
    assert hub.user("alice")["groups"] == ["instructors"]
    assert hub.user("bob")["groups"] == []
    assert hub.api("GET", "/groups/instructors")["users"] == ["alice"]


def test_bobs_token_is_refused_at_carols_studymate(hub: HubProcess):
    status, _ = hub.studymate("carol", "GET", "chats", as_user="bob")
    assert status == 403
    status, _ = hub.studymate("carol", "POST", "chats", {"title": "x"}, as_user="bob")
    assert status == 403
    # Nothing was made in carol's name.
    _, chats = hub.studymate("carol", "GET", "chats")
    assert all(chat["title"] != "x" for chat in chats["chats"])


async def test_bobs_websocket_upgrade_at_carols_server_is_refused_before_any_frame(
    hub: HubProcess,
):
    with pytest.raises(HTTPClientError) as refused:
        await hub.connect("carol", as_user="bob")
    assert refused.value.code == 403


async def test_a_request_without_a_token_is_refused_at_a_students_studymate(hub: HubProcess):
    status, _ = hub.studymate("carol", "GET", "chats", anonymous=True)
    assert status == 403
    with pytest.raises(HTTPClientError) as refused:
        await hub.connect("carol", anonymous=True)
    assert refused.value.code == 403


async def test_a_chat_bob_makes_is_in_bobs_history_only(hub: HubProcess):
    bob = await hub.connect("bob")
    frames = await bob.reply_to(f"Who am I? {uuid.uuid4().hex}")
    created = next(f for f in frames if f["type"] == "chat_created")
    chat_id = created["data"]["chat_id"]
    echo = next(
        f for f in frames if f["type"] == "message" and f["data"]["message"]["role"] == "user"
    )
    assert echo["data"]["user_id"] == "bob"
    assert is_final_reply(frames[-1])

    _, chats = hub.studymate("bob", "GET", "chats")
    assert chat_id in [chat["id"] for chat in chats["chats"]]
    for other in ("alice", "carol"):
        _, theirs = hub.studymate(other, "GET", "chats")
        assert chat_id not in [chat["id"] for chat in theirs["chats"]]
        status, _ = hub.studymate(other, "GET", f"chats/{chat_id}/messages")
        assert status == 404
