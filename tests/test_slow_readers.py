"""A client that stops reading is closed once its unsent output passes the limit, and its
output freed; everyone else goes on getting the chat, replies included, and the closed client
resyncs when it reconnects."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_llm import FakeLLM

from studymate_jupyter.pytest_plugin import ChatClient, ServerProcess, is_final_reply

MB = 1_000_000
SENT = 60  # messages of 1 MB, as in the measurement that filed this (memory grew by 138 MiB)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


class PausedReader:
    """A WebSocket client on a plain socket with a 4 KiB receive buffer, which reads only when
    told to: the server's output for it waits on the server's side."""

    def __init__(self, server: ServerProcess, chat_id: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /ws/chat HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Authorization: token {server.token}\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self.send({"type": "auth", "data": {"chat_id": chat_id}})
        assert self.frame()[1]["type"] == "auth_ok"

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        return data

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self._recv()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def send(self, frame: dict[str, Any]) -> None:
        payload = json.dumps(frame).encode()
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def frame(self) -> tuple[int, Any]:
        """The next frame: (opcode, decoded JSON) for text, (opcode, close code) for close."""
        first, second = self._take(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._take(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._take(8))
        payload = self._take(size)
        opcode = first & 0x0F
        if opcode == 0x8:
            return opcode, struct.unpack("!H", payload[:2])[0] if payload else None
        return opcode, json.loads(payload) if opcode == 0x1 else payload

    def read_to_the_end(self) -> int:
        """Read until the server closes the socket; the bytes that came."""
        total = len(self.buffer)
        while True:
            try:
                total += len(self._recv())
            except EOFError:
                return total

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    fake = FakeLLM([f"piece{n} " for n in range(20)], delay=0.005)
    yield fake
    fake.close()


@pytest.fixture
def server(tmp_path: Path, llm: FakeLLM) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path, extra_args=[*llm.args, "--StudyMate.rate_limit=0"])
    yield process
    process.stop()


async def first_chat(writer: ChatClient) -> str:
    frames = await writer.reply_to("hello")
    await writer.after_reply()
    chat_id: str = frames[0]["data"]["chat_id"]
    return chat_id


async def send_and_echo(writer: ChatClient, chat_id: str, content: str) -> str:
    message_id = uuid.uuid4().hex
    await writer.send(
        "message",
        {"chat_id": chat_id, "message": {"id": message_id, "role": "user", "content": content}},
    )
    await writer.recv_until(
        lambda f: f["type"] == "message" and f["data"]["message"]["id"] == message_id, timeout=30
    )
    return message_id


def drain(client: ChatClient) -> asyncio.Task[None]:
    """Read everything that comes to `client`, into its `seen`, until cancelled."""

    async def read() -> None:
        while True:
            await client.recv(timeout=3600)

    return asyncio.create_task(read())


async def sixty_megabytes(server: ServerProcess, pause: bool) -> tuple[float, list[str], str]:
    """Send 60 messages of 1 MB to a chat followed by one reading connection and, if `pause`,
    by a paused one too; how far the server's RSS grew (MiB), the ids and the chat."""
    await asyncio.to_thread(server.start)
    assert server.process is not None
    pid = server.process.pid
    writer = await server.connect()
    chat_id = await first_chat(writer)
    reader = await server.connect()
    await reader.send("auth", {"chat_id": chat_id})
    reading = drain(reader)
    paused = await asyncio.to_thread(PausedReader, server, chat_id) if pause else None
    before = peak = rss_mib(pid)
    ids = []
    for n in range(SENT):
        ids.append(await send_and_echo(writer, chat_id, f"{n:02d} " + "x" * (MB - 3)))
        peak = max(peak, rss_mib(pid))
    # Every reply streams to the connection that reads, the last ones after the cut-off.
    deadline = asyncio.get_running_loop().time() + 60
    while sum(is_final_reply(f) for f in reader.seen) < SENT:
        assert asyncio.get_running_loop().time() < deadline, "the replies did not all come"
        await asyncio.sleep(0.1)
    reading.cancel()
    echoed = [
        f["data"]["message"]["id"]
        for f in reader.seen
        if f["type"] == "message" and f["data"]["message"]["role"] == "user"
    ]
    assert echoed == ids
    if paused is not None:
        received = await asyncio.to_thread(paused.read_to_the_end)
        assert received < 8 * MB  # of the 60 MB
        paused.close()
    return peak - before, ids, chat_id


async def test_a_client_that_stops_reading_is_closed_and_freed_while_the_others_go_on(
    tmp_path, llm
):
    # The same 60 MB through a server with no paused client: what the server needs anyway.
    alone = ServerProcess(tmp_path / "alone", extra_args=[*llm.args, "--StudyMate.rate_limit=0"])
    try:
        needed, _, _ = await sixty_megabytes(alone, pause=False)
    finally:
        await asyncio.to_thread(alone.stop)
    server = ServerProcess(tmp_path / "paused", extra_args=[*llm.args, "--StudyMate.rate_limit=0"])
    try:
        grown, ids, chat_id = await sixty_megabytes(server, pause=True)
        # Without the limit the server kept all 60 MB waiting for the paused client (it grew
        # by 138 MiB). With it, what waited was dropped at 4 MiB.
        assert grown - needed < 16, f"grew by {grown:.0f} MiB, {needed:.0f} without the client"

        log = server.log_path.read_text()
        cut = [line for line in log.splitlines() if "stopped reading" in line]
        assert len(cut) == 1, cut
        assert "over StudyMate.max_unsent_bytes (4194304)" in cut[0]
        assert "xxxx" not in log

        # The closed client reconnects and finds everything: its socket was shut, no message.
        again = await server.connect()
        await again.send("auth", {"chat_id": chat_id})
        assert (await again.recv())["type"] == "auth_ok"
        page = server.get(f"studymate/api/chats/{chat_id}/messages?limit=200")
        assert [m["id"] for m in page["messages"] if m["role"] == "user"][1:] == ids
    finally:
        await asyncio.to_thread(server.stop)


async def test_typing_is_dropped_for_a_client_behind_and_the_messages_still_come(server):
    await asyncio.to_thread(server.start)
    writer = await server.connect()
    chat_id = await first_chat(writer)
    paused = await asyncio.to_thread(PausedReader, server, chat_id)
    typing = {"chat_id": chat_id, "is_typing": True}

    await writer.send("typing", typing)
    await send_and_echo(writer, chat_id, "while the client keeps up")
    await writer.after_reply()
    # Four echoes of 0.9 MB: under the 4 MiB limit, and over a quarter of it even after the
    # kernel's socket buffers take what they can.
    for n in range(4):
        await send_and_echo(writer, chat_id, f"{n} " + "y" * (900_000 - 2))
    for is_typing in (True, False, True, False):
        await writer.send("typing", {**typing, "is_typing": is_typing})
    last = await send_and_echo(writer, chat_id, "after the typing")

    def frames_until_last() -> list[Any]:
        frames = []
        while True:
            opcode, frame = paused.frame()
            assert opcode == 0x1, (opcode, frame)
            frames.append(frame)
            if frame["type"] == "message" and frame["data"]["message"]["id"] == last:
                return frames

    frames = await asyncio.to_thread(frames_until_last)
    paused.close()
    kinds = [
        (f["type"], f["data"].get("role") or f["data"].get("message", {}).get("content", "")[:2])
        for f in frames
    ]
    first_big = kinds.index(("message", "0 "))
    assert ("typing", "user") in kinds[:first_big]  # delivered while nothing waited
    assert ("typing", "user") not in kinds[first_big:]
    # The assistant's typing too, once over 2 MB waited (the kernel takes at most 0.5 MB).
    assert ("typing", "assistant") not in kinds[kinds.index(("message", "2 ")) :]
    assert kinds[-1] == ("message", "af")
