"""In-process mode: the server's own services, on the same SQLite file as a running server."""

from __future__ import annotations

import asyncio
import json

from studymate_jupyter.local import LocalServer
from studymate_jupyter.pytest_plugin import ServerProcess


async def converse(connection, frames: list[str], text: str) -> str:
    """Send a new-chat message; return the chat id once the reply completed."""
    message = {"id": f"local-{text}", "role": "user", "content": text}
    await connection.send(json.dumps({"type": "message", "data": {"message": message}}))
    for _ in range(200):
        decoded = [json.loads(f) for f in frames]
        done = [
            f
            for f in decoded
            if f["type"] == "message"
            and f["data"]["message"]["status"] == "complete"
            and f["data"]["message"]["role"] == "assistant"
        ]
        if done:
            return str(done[0]["data"]["chat_id"])
        await asyncio.sleep(0.02)
    raise TimeoutError(frames)


async def test_an_in_process_conversation_is_stored_where_the_server_reads_it(tmp_path):
    server = ServerProcess(tmp_path)
    await asyncio.to_thread(server.start)
    try:
        local = LocalServer(server.root_dir, db_url=f"sqlite:///{server.db_path}")
        frames: list[str] = []
        connection = local.connect(frames.append)
        chat_id = await converse(connection, frames, "asked offline")
        connection.close()
        await local.close()

        ws = await server.connect()
        await ws.send("load_messages", {"chat_id": chat_id})
        page = (await ws.recv_until(lambda f: f["type"] == "messages"))[-1]
        contents = [(m["role"], m["status"]) for m in page["data"]["messages"]]
        assert contents == [("user", "complete"), ("assistant", "complete")]
        assert page["data"]["messages"][0]["content"] == "asked offline"
    finally:
        await asyncio.to_thread(server.stop)
