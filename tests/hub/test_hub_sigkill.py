"""A student's server killed with SIGKILL in the middle of a stream of messages loses none it
acknowledged, and the other student's server answers throughout."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Callable

from hub_process import HubProcess, process_alive, stored_messages
from test_hub_shared_database import ask, chat_of
from waiting import until

from studymate_jupyter.pytest_plugin import ChatClient, Frame

ACKED_BEFORE_KILL = 25


def echo_of(message_id: str) -> Callable[[Frame], bool]:
    return lambda f: f["type"] == "message" and f["data"]["message"]["id"] == message_id


async def send_until_cut_off(client: ChatClient, chat_id: str, acked: list[str]) -> int:
    """Send messages one after another, each once the one before was acknowledged (its echo:
    the server echoes a message once it is committed), until the connection breaks; how many
    were sent."""
    sent = 0
    while True:
        message_id = uuid.uuid4().hex
        body = {"id": message_id, "role": "user", "content": f"message {sent}"}
        try:
            await client.send("message", {"chat_id": chat_id, "message": body})
            sent += 1
            await client.recv_until(echo_of(message_id), timeout=30)
        except (ConnectionError, OSError):  # the socket closed (WebSocketClosedError too)
            return sent
        acked.append(message_id)


async def test_a_students_server_killed_mid_stream_loses_no_acknowledged_message(
    hub: HubProcess,
):
    bob, carol = await hub.connect("bob"), await hub.connect("carol")
    bobs_chat = chat_of(await ask(bob, "Before the stream"))
    carols_chat = chat_of(await ask(carol, "Before the stream"))
    pid = hub.server_pid("bob")

    acked: list[str] = []
    carol_answered: list[float] = []
    done = asyncio.Event()

    async def carol_keeps_asking() -> None:
        while not done.is_set():
            await ask(carol, f"Still there? {len(carol_answered)}", carols_chat)
            carol_answered.append(time.monotonic())
            await asyncio.sleep(0.05)  # a person's pace, more or less: the load is bob's

    async def kill_bob_mid_stream() -> float:
        await until(lambda: len(acked) >= ACKED_BEFORE_KILL, 60, "bob's messages acknowledged")
        os.kill(pid, signal.SIGKILL)  # while the next message is on its way
        return time.monotonic()

    carols = asyncio.ensure_future(carol_keeps_asking())
    killer = asyncio.ensure_future(kill_bob_mid_stream())
    sent = await send_until_cut_off(bob, bobs_chat, acked)
    killed_at = await killer
    await until(lambda: not process_alive(pid), 10, "bob's server gone")
    assert len(acked) >= ACKED_BEFORE_KILL
    assert sent >= len(acked)

    # The hub finds the server dead and starts a new one on the same database.
    new_pid = await asyncio.to_thread(hub.start_server, "bob")
    back_at = time.monotonic()
    assert new_pid != pid

    status, page = hub.studymate("bob", "GET", f"chats/{bobs_chat}/messages?limit=500")
    assert status == 200
    stored = [m["id"] for m in page["messages"] if m["role"] == "user"]
    assert set(acked) <= set(stored), f"lost: {set(acked) - set(stored)}"
    assert len(stored) == len(set(stored))  # none stored twice
    in_database = [i for i, user, role in stored_messages(hub.db_url, bobs_chat) if role == "user"]
    assert set(acked) <= set(in_database)

    # Carol was answered before, while bob's server was down, and after it came back.
    answered_before = len(carol_answered)
    await until(lambda: len(carol_answered) > answered_before, 30, "carol answered after")
    done.set()
    await asyncio.wait_for(carols, 30)
    assert any(t < killed_at for t in carol_answered)
    assert any(killed_at < t < back_at for t in carol_answered)
    assert carol_answered[-1] > back_at
