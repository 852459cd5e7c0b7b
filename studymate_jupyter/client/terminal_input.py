"""What the user types into ``studymate chat``: lines from stdin."""

from __future__ import annotations

import asyncio
import sys
import threading


def piped_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines of stdin fed from a daemon thread (portable, and never blocks the loop);
    ``None`` at end of input."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="studymate-stdin", daemon=True).start()
    return queue
