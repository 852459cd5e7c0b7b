"""A stand-in for a remote model: an OpenAI-compatible server on a real socket.

It speaks the wire format of `POST /v1/chat/completions` with `stream: true` (server-sent
events ending in `data: [DONE]`) and `GET /v1/models`, records what reached it, and can fail
in each of the ways a real one does.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Literal

from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError
from tornado.web import Application, RequestHandler

from studymate_jupyter.pytest_plugin import free_port

# What the server says when it refuses: it echoes the key and names its own address, as real
# ones do; none of it may reach a student.
LEAKY_ERROR = "Incorrect API key provided: {key}. Internal host gpu-7.internal:{port}"
Ending = Literal["done", "disconnect", "malformed", "error-event", "no-done"]


@dataclass(frozen=True)
class Received:
    """One request as it reached the model server."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body["messages"])

    @property
    def prompt(self) -> str:
        return "\n".join(m["content"] for m in self.messages)


class Models(RequestHandler):
    def initialize(self, llm: FakeLLM) -> None:
        self.llm = llm

    def prepare(self) -> None:
        self.llm.connections.add(self.request.connection)

    def get(self) -> None:
        self.llm.received.append(Received(self.request.path, dict(self.request.headers), {}))
        if self.llm.status != 200:
            self.llm.refuse(self)
        elif self.llm.models is None:
            self.set_status(404)
        else:
            self.write({"object": "list", "data": [{"id": m} for m in self.llm.models]})


class Completions(RequestHandler):
    def initialize(self, llm: FakeLLM) -> None:
        self.llm = llm

    def prepare(self) -> None:
        self.llm.connections.add(self.request.connection)

    async def post(self) -> None:
        llm = self.llm
        llm.received.append(
            Received(self.request.path, dict(self.request.headers), json.loads(self.request.body))
        )
        if llm.status != 200:
            llm.refuse(self)
            return
        await asyncio.sleep(llm.first_delay)
        self.set_header("Content-Type", "text/event-stream")
        self.write(": a comment, as some servers send to keep the stream open\n\n")
        try:
            for n, piece in enumerate(llm.pieces):
                if n == llm.fail_after:
                    await self._end_badly()
                    return
                chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                self.write(f"data: {json.dumps(chunk)}\n\n")
                await self.flush()
                llm.sent += 1
                await asyncio.sleep(llm.delay)
            if llm.ending != "no-done":
                self.write("data: [DONE]\n\n")
            await self.flush()
        except StreamClosedError:
            pass  # the client went away: on_connection_close says so

    async def _end_badly(self) -> None:
        ending = self.llm.ending
        if ending == "disconnect":
            await self.flush()
            assert self.request.connection is not None
            self.request.connection.close()  # type: ignore[attr-defined]
            return
        if ending == "malformed":
            self.write('data: {"choices": [{"delta": {"content": "half\n\n')
        elif ending == "error-event":
            self.write('data: {"error": {"message": "CUDA out of memory on gpu-7"}}\n\n')
        await self.flush()

    def on_connection_close(self) -> None:
        self.llm.client_left.set()


class FakeLLM:
    """Streams `pieces` with `delay` seconds between them, after `first_delay`.

    Set `status` to refuse every request with it, `fail_after` (with `ending`) to break the
    stream after that many pieces, `models` to what `GET /v1/models` lists (None: 404).
    """

    def __init__(self, pieces: list[str], delay: float = 0.0) -> None:
        self.pieces = pieces
        self.delay = delay
        self.first_delay = 0.0
        self.status = 200
        self.retry_after: str | None = None
        self.fail_after: int | None = None
        self.ending: Ending = "done"
        self.models: list[str] | None = ["fake", "other-model:7b"]
        self.received: list[Received] = []
        self.sent = 0
        self.client_left = asyncio.Event()
        # Every connection a request came over, so that close() can drop them.
        self.connections: set[Any] = set()
        self.port = free_port()
        app = Application(
            [
                (r"/v1/chat/completions", Completions, {"llm": self}),
                (r"/v1/models", Models, {"llm": self}),
            ]
        )
        self.server = HTTPServer(app)
        self.server.listen(self.port, address="127.0.0.1")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def config(self) -> dict[str, dict[str, Any]]:
        """Server config that points StudyMate at this model."""
        return {
            "StudyMate": {"assistant": "openai"},
            "OpenAIProvider": {"base_url": self.base_url, "model": "fake"},
        }

    @property
    def args(self) -> list[str]:
        """The same, as command-line arguments of `jupyter server`."""
        return [
            f"--{section}.{name}={value}"
            for section, traits in self.config.items()
            for name, value in traits.items()
        ]

    @property
    def completions(self) -> list[Received]:
        return [r for r in self.received if r.path.endswith("/chat/completions")]

    def refuse(self, handler: RequestHandler) -> None:
        handler.set_status(self.status)
        if self.retry_after is not None:
            handler.set_header("Retry-After", self.retry_after)
        key = handler.request.headers.get("Authorization", "")
        message = LEAKY_ERROR.format(key=key, port=self.port)
        handler.write({"error": {"message": message, "type": "invalid_request_error"}})

    def close(self) -> None:
        """Stop listening and drop open connections, as a model server that stops does (a
        client's pooled keep-alive connection would otherwise still be answered)."""
        self.server.stop()
        for connection in self.connections:
            connection.close()
        self.connections.clear()
