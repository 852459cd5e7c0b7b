"""The baseline server: a bare Tornado WebSocket echo on loopback, nothing else.

Run as `python -m bench.bare_echo PORT`; it echoes every text frame back to its sender.
"""

from __future__ import annotations

import asyncio
import sys

from tornado.web import Application
from tornado.websocket import WebSocketHandler


class Echo(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


async def serve(port: int) -> None:
    app = Application([(r"/ws/echo", Echo)])
    app.listen(port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
