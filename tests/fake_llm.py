"""A stand-in for a remote model: an OpenAI-compatible streaming endpoint on a real socket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from studymate_jupyter.pytest_plugin import free_port


class Completions(RequestHandler):
    def initialize(self, llm: FakeLLM) -> None:
        self.llm = llm

    async def post(self) -> None:
        body = json.loads(self.request.body)
        self.llm.requests.append(body)
        self.set_header("Content-Type", "text/event-stream")
        for piece in self.llm.pieces:
            chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            self.write(f"data: {json.dumps(chunk)}\n\n")
            await self.flush()
            await asyncio.sleep(self.llm.delay)
        self.write("data: [DONE]\n\n")
        await self.flush()


class FakeLLM:
    """Streams `pieces` with `delay` seconds between them, in the chat-completions SSE format."""

    def __init__(self, pieces: list[str], delay: float) -> None:
        self.pieces = pieces
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.port = free_port()
        app = Application([(r"/v1/chat/completions", Completions, {"llm": self})])
        self.server = HTTPServer(app)
        self.server.listen(self.port, address="127.0.0.1")

    @property
    def config(self) -> dict[str, Any]:
        return {
            "assistant": "openai",
            "openai_base_url": f"http://127.0.0.1:{self.port}/v1",
            "openai_model": "fake",
        }

    def close(self) -> None:
        self.server.stop()
