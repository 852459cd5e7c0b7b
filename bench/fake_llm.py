"""A stand-in model: an OpenAI-compatible streaming chat-completions endpoint on loopback.

Run as `python -m bench.fake_llm PORT PIECES DELAY`: every request is answered with PIECES
pieces (`"w0 "`, `"w1 "`, …) DELAY seconds apart, in the server-sent-events format.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tornado.web import Application, RequestHandler


def piece(n: int) -> str:
    return f"w{n} "


class Completions(RequestHandler):
    def initialize(self, pieces: int, delay: float) -> None:
        self.pieces = pieces
        self.delay = delay

    async def post(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        for n in range(self.pieces):
            chunk = {"choices": [{"index": 0, "delta": {"content": piece(n)}}]}
            self.write(f"data: {json.dumps(chunk)}\n\n")
            await self.flush()
            if self.delay:
                await asyncio.sleep(self.delay)
        self.write("data: [DONE]\n\n")
        await self.flush()


async def serve(port: int, pieces: int, delay: float) -> None:
    app = Application([(r"/v1/chat/completions", Completions, {"pieces": pieces, "delay": delay})])
    app.listen(port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
