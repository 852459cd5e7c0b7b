"""StudyMate in this process, for a kernel that cannot reach a Jupyter server.

The same services the server runs (`StudyMate.build_core`), on the same SQLite file: WAL lets
this process and a server share it, so nothing is lost. Frames go through the same Session
the WebSocket handler uses; only live updates from other processes are missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .app import StudyMate
from .chat.session import Session

if TYPE_CHECKING:
    from collections.abc import Callable

    from .core import Core


class LocalServer:
    """Services and sessions in-process. Create, use and close it on one event loop."""

    def __init__(self, root_dir: str | Path, **traits: Any) -> None:
        # Trait values as on the command line: db_url, owner_id, assistant, ...
        self.app = StudyMate(**traits)
        self.root_dir = Path(root_dir)
        self.core: Core = self.app.build_core(self.root_dir)
        self.user_id = str(self.app.owner_id)

    def connect(self, on_frame: Callable[[str], None]) -> LocalConnection:
        """A connection that delivers server frames to `on_frame` (on this loop)."""
        session = Session(
            self.core.chats,
            self.user_id,
            on_frame,
            max_content_bytes=int(self.app.max_content_bytes),
            rate=0.0,  # one local user, no one to protect
            burst=0.0,
        )
        session.open()
        return LocalConnection(session)

    async def close(self) -> None:
        await self.core.close()


class LocalConnection:
    """The in-process twin of a `/ws/chat` socket: raw frames in, raw frames out."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def send(self, raw: str) -> None:
        await self.session.handle(raw)

    def close(self) -> None:
        self.session.close()
