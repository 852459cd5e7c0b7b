"""In-process mode: the server's own services, on the same SQLite file as a running server."""

from __future__ import annotations

import asyncio
import json

from studymate_jupyter.client.local import LocalServer, LocalSocket
from studymate_jupyter.pytest_plugin import ServerProcess, is_final_reply


async def converse(socket: LocalSocket, text: str) -> str:
    """Send a new-chat message; return the chat id once the reply completed."""
    message = {"id": f"local-{text}", "role": "user", "content": text}
    socket.write_message(json.dumps({"type": "message", "data": {"message": message}}))
    while True:
        raw = await asyncio.wait_for(socket.read_message(), 30)
        assert raw is not None, "the in-process socket closed"
        frame = json.loads(raw)
        if is_final_reply(frame):
            assert frame["data"]["message"]["status"] == "complete"
            return str(frame["data"]["chat_id"])


async def test_an_in_process_conversation_is_stored_where_the_server_reads_it(tmp_path):
    server = ServerProcess(tmp_path)
    await asyncio.to_thread(server.start)
    try:
        local = LocalServer(server.root_dir, db_url=f"sqlite:///{server.db_path}")
        socket = LocalSocket(local)
        chat_id = await converse(socket, "asked offline")
        socket.close()
        await local.close()

        ws = await server.connect()
        await ws.send("load_messages", {"chat_id": chat_id})
        page = (await ws.recv_until(lambda f: f["type"] == "messages"))[-1]
        contents = [(m["role"], m["status"]) for m in page["data"]["messages"]]
        assert contents == [("user", "complete"), ("assistant", "complete")]
        assert page["data"]["messages"][0]["content"] == "asked offline"
    finally:
        await asyncio.to_thread(server.stop)
