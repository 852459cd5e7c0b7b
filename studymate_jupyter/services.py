"""The running services of StudyMate, built once by the app (or by an in-process client)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .chat.events import ServerEvents
    from .chat.hub import Hub
    from .chat.replies import Replies
    from .chat.service import ChatService
    from .library.service import LibraryService
    from .store.db import Database


@dataclass(frozen=True)
class Services:
    db: Database
    hub: Hub
    library: LibraryService
    replies: Replies
    chats: ChatService
    events: ServerEvents | None = None

    async def close(self) -> None:
        """Finish what is running (replies in progress are stored) and release the database."""
        await self.library.shutdown()
        await self.replies.shutdown()
        await self.replies.assistant.close()
        if self.events is not None:  # after the replies: their last chat_updated crosses too
            await self.events.stop()
        self.db.close()
