"""Who may connect, who they are, and what they may see."""

from __future__ import annotations

import json
import uuid

import pytest
import two_users
from tornado.httpclient import HTTPClientError

from studymate_jupyter.identity import default_owner_id
from studymate_jupyter.pytest_plugin import ChatClient, is_final_reply


async def test_an_upgrade_without_a_token_is_refused_with_403(chat_ws):
    with pytest.raises(HTTPClientError) as refused:
        await chat_ws(headers={"Authorization": ""})
    assert refused.value.code == 403


async def test_an_upgrade_with_a_wrong_token_is_refused_with_403(chat_ws):
    with pytest.raises(HTTPClientError) as refused:
        await chat_ws(headers={"Authorization": "token not-the-token"})
    assert refused.value.code == 403


async def test_the_token_may_travel_in_the_query_string_as_the_seed_client_sends_it(
    chat_ws, jp_serverapp
):
    token = jp_serverapp.identity_provider.token
    ws = await chat_ws(headers={"Authorization": ""}, params={"token": token})
    await ws.send("auth", {})
    assert (await ws.recv())["type"] == "auth_ok"


async def test_every_token_request_is_the_one_owner(chat_ws, api):
    me = await api("me")
    assert me == {
        "user_id": default_owner_id(),
        "display_name": default_owner_id(),
        "instructor": False,
    }
    first, second = await chat_ws(), await chat_ws()
    await first.send("auth", {})
    await second.send("auth", {})
    assert (await first.recv())["data"]["user_id"] == (await second.recv())["data"]["user_id"]


async def login_cookie(jp_fetch) -> str:
    response = await jp_fetch("api", "status")
    return response.headers["Set-Cookie"].split(";")[0]


async def test_a_cross_origin_upgrade_with_a_login_cookie_is_refused(
    chat_ws, jp_fetch, jp_http_port
):
    cookie = await login_cookie(jp_fetch)
    headers = {
        "Authorization": "",
        "Cookie": cookie,
        "Host": f"127.0.0.1:{jp_http_port}",
        "Origin": "http://evil.example",
    }
    with pytest.raises(HTTPClientError) as refused:
        await chat_ws(headers=headers)
    assert refused.value.code == 403


async def test_a_same_origin_upgrade_with_a_login_cookie_is_accepted(
    chat_ws, jp_fetch, jp_http_port
):
    cookie = await login_cookie(jp_fetch)
    host = f"127.0.0.1:{jp_http_port}"  # the login cookie is named for this host
    headers = {"Authorization": "", "Cookie": cookie, "Host": host, "Origin": f"http://{host}"}
    ws = await chat_ws(headers=headers)
    await ws.send("auth", {})
    assert (await ws.recv())["type"] == "auth_ok"


async def test_rest_without_a_token_is_refused_with_json(jp_fetch):
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("studymate", "api", "chats", headers={"Authorization": ""})
    assert refused.value.code == 403
    assert json.loads(refused.value.response.body)["code"] == "forbidden"


# ---- two users, named by the identity provider ----------------------------------------------


class TestTwoUsers:
    @pytest.fixture
    def jp_server_config(self, studymate_db_url):
        return two_users.server_config(studymate_db_url)

    @pytest.fixture
    def as_user(self, jp_ws_fetch, jp_fetch):
        clients: list[ChatClient] = []

        async def ws(name: str) -> ChatClient:
            headers = {"Authorization": f"token {name}-token"}
            clients.append(ChatClient(await jp_ws_fetch("ws", "chat", headers=headers)))
            return clients[-1]

        yield ws
        for client in clients:
            client.close()

    @pytest.fixture
    def rest_as(self, jp_fetch):
        async def call(name: str, path: str, method: str = "GET", body=None):
            kwargs = {"body": json.dumps(body)} if body is not None else {}
            response = await jp_fetch(
                "studymate",
                "api",
                *path.split("/"),
                method=method,
                headers={"Authorization": f"token {name}-token"},
                **kwargs,
            )
            return json.loads(response.body) if response.body else None

        return call

    async def test_user_id_is_the_identity_providers_username(self, as_user, rest_as):
        assert (await rest_as("alice", "me")) == {
            "user_id": "alice",
            "display_name": "Alice",
            "instructor": False,
        }
        ws = await as_user("bob")
        await ws.send("auth", {"user_id": "bob"})
        assert (await ws.recv())["data"]["user_id"] == "bob"

    async def test_claiming_to_be_another_user_is_forbidden(self, as_user):
        ws = await as_user("bob")
        await ws.send("auth", {"user_id": "alice"})
        assert (await ws.recv())["data"]["code"] == "forbidden"

    async def test_another_users_chat_is_not_found_over_the_websocket(self, as_user):
        alice = await as_user("alice")
        frames = await alice.reply_to("alice's secret notes")
        chat_id = frames[0]["data"]["chat_id"]
        bob = await as_user("bob")
        for frame_type, data in [
            ("auth", {"chat_id": chat_id}),
            ("load_messages", {"chat_id": chat_id}),
            ("typing", {"chat_id": chat_id, "is_typing": True}),
            ("stop", {"chat_id": chat_id}),
            (
                "message",
                {
                    "chat_id": chat_id,
                    "message": {"id": uuid.uuid4().hex, "role": "user", "content": "let me in"},
                },
            ),
        ]:
            await bob.send(frame_type, data)
            frame = await bob.recv()
            assert frame["data"]["code"] == "not_found", frame_type
        await alice.after_reply()
        await alice.expect_nothing_sent()  # nothing of bob's reached alice's chat

    async def test_another_users_chat_is_404_over_rest(self, as_user, rest_as):
        alice = await as_user("alice")
        chat_id = (await alice.reply_to("mine"))[0]["data"]["chat_id"]
        for method, path, body in [
            ("GET", f"chats/{chat_id}", None),
            ("PATCH", f"chats/{chat_id}", {"title": "stolen"}),
            ("DELETE", f"chats/{chat_id}", None),
            ("GET", f"chats/{chat_id}/messages", None),
            ("GET", f"chats/{chat_id}/export", None),
        ]:
            with pytest.raises(HTTPClientError) as missing:
                await rest_as("bob", path, method=method, body=body)
            assert missing.value.code == 404, (method, path)
            assert json.loads(missing.value.response.body)["code"] == "not_found"
        assert (await rest_as("bob", "chats"))["chats"] == []
        assert [c["id"] for c in (await rest_as("alice", "chats"))["chats"]] == [chat_id]
        assert (await rest_as("alice", f"chats/{chat_id}"))["title"] == "mine"

    async def test_two_users_may_choose_the_same_message_id(self, as_user):
        shared_id = "message-1"
        for name in ("alice", "bob"):
            ws = await as_user(name)
            await ws.send(
                "message", {"message": {"id": shared_id, "role": "user", "content": name}}
            )
            frames = await ws.recv_until(is_final_reply)
            assert frames[1]["data"]["message"]["content"] == name

    async def test_chat_events_reach_only_their_owner(self, as_user, rest_as):
        bob = await as_user("bob")
        alice, alices_other_tab = await as_user("alice"), await as_user("alice")
        chat_id = (await alice.reply_to("alice only"))[0]["data"]["chat_id"]
        await rest_as("alice", f"chats/{chat_id}", "PATCH", {"title": "mine"})
        await rest_as("alice", f"chats/{chat_id}", "DELETE")
        events = await alices_other_tab.recv_until(lambda f: f["type"] == "chat_deleted")
        # Created, its reply ended (unread: 1), renamed, deleted.
        assert [f["type"] for f in events] == [
            "chat_created",
            "chat_updated",
            "chat_updated",
            "chat_deleted",
        ]
        # Those went out to alice's connections; any that went to bob would be here by now.
        await bob.expect_nothing_sent()
