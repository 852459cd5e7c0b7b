"""The client without a server: the same protocol, carried in-process to ``LocalServer``.

For a kernel that cannot reach a Jupyter server (VS Code, a plain Python process): frames go
through the server's own Session and services, on the same SQLite file a server would use.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from tornado.websocket import WebSocketClosedError

from ..protocol import ChatPatch, NewChat, NewDocument, ProtocolError, parse_body
from .client import StudyMateClient
from .discovery import ServerInfo
from .errors import StudyMateError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tornado.websocket import WebSocketClientConnection

    from ..local import LocalServer
    from ..protocol import Document, Passage
    from .types import Chat, ChatScope, Me, MessagesPage, SearchResult

T = TypeVar("T")

#: Stands in for a server address in logs and in ``client.server``; nothing connects to it.
IN_PROCESS = ServerInfo(base_url="http://in-process/", token="")


async def _service(call: Callable[[], Awaitable[T]]) -> T:
    """Validate and call a service, turning its ProtocolError into the client's
    StudyMateError."""
    try:
        return await call()
    except ProtocolError as exc:
        raise StudyMateError(exc.code, exc.message, ref=exc.ref) from None


class LocalSocket:
    """The part of tornado's ``WebSocketClientConnection`` the client uses, in-process.

    Frames are handled one after another in sending order, as the WebSocket handler does.
    """

    def __init__(self, server: LocalServer) -> None:
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._connection = server.connect(self._inbox.put_nowait)
        self._worker = asyncio.ensure_future(self._work())
        self.closed = False

    async def _work(self) -> None:
        while (raw := await self._outbox.get()) is not None:
            await self._connection.send(raw)

    def write_message(self, message: str) -> asyncio.Future[None]:
        if self.closed:
            raise WebSocketClosedError()
        self._outbox.put_nowait(message)
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        written.set_result(None)
        return written

    async def read_message(self) -> str | None:
        """The next server frame; ``None`` once closed."""
        if self.closed and self._inbox.empty():
            return None
        return await self._inbox.get()

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        self._connection.close()
        self._inbox.put_nowait(None)
        self._outbox.put_nowait(None)


class LocalClient(StudyMateClient):
    """A :class:`StudyMateClient` whose "server" runs in this process (``LocalServer``).

    Create, use and close it on one event loop. ``traits`` are ``StudyMate`` traits
    (``db_url``, ``assistant``...); the default database is the one a server uses by default.
    Live updates from other processes do not reach it.
    """

    def __init__(self, root_dir: str | Path, *, chat_id: str | None = None, **traits: Any) -> None:
        # One attempt: an in-process connection does not drop, so there is nothing to retry.
        super().__init__(chat_id=chat_id, server=IN_PROCESS, max_attempts=0)
        self.root_dir = Path(root_dir)
        self.traits = traits
        self.local: LocalServer | None = None

    async def start(self) -> None:
        if self.local is None:
            # Imported here: the server side (SQLAlchemy, services) only when really used.
            from ..local import LocalServer

            self.local = LocalServer(self.root_dir, **self.traits)
        await super().start()

    async def close(self) -> None:
        await super().close()
        local, self.local = self.local, None
        if local is not None:
            await local.close()

    async def _open(self) -> WebSocketClientConnection:
        if self.local is None:
            raise StudyMateError("unavailable", "the in-process server is closed")
        return cast("WebSocketClientConnection", LocalSocket(self.local))

    @property
    def _server_side(self) -> LocalServer:
        if self.local is None:
            raise StudyMateError("unavailable", "call start() or connect() first")
        return self.local

    # --- the REST half, through the same services ----------------------------------------

    async def me(self) -> Me:
        user = self._server_side.user_id
        return {"user_id": user, "display_name": user}

    async def list_chats(self) -> list[Chat]:
        local = self._server_side
        return await _service(lambda: local.core.chats.list_chats(local.user_id))

    async def create_chat(self, title: str | None = None, scope: ChatScope | None = None) -> Chat:
        local = self._server_side
        body: dict[str, object] = {} if title is None else {"title": title}
        if scope is not None:
            body["scope"] = scope
        return await _service(
            lambda: local.core.chats.create_chat(local.user_id, parse_body(NewChat, body))
        )

    async def rename_chat(self, chat_id: str, title: str) -> Chat:
        return await self._patch(chat_id, {"title": title})

    async def set_scope(self, chat_id: str, scope: ChatScope | None) -> Chat:
        return await self._patch(chat_id, {"scope": scope})

    async def _patch(self, chat_id: str, body: dict[str, object]) -> Chat:
        local = self._server_side
        return await _service(
            lambda: local.core.chats.update_chat(
                local.user_id, chat_id, parse_body(ChatPatch, body)
            )
        )

    async def delete_chat(self, chat_id: str) -> None:
        local = self._server_side
        await _service(lambda: local.core.chats.delete_chat(local.user_id, chat_id))

    async def get_messages(
        self, chat_id: str, *, before: str | None = None, limit: int | None = None
    ) -> MessagesPage:
        local = self._server_side
        page = await _service(lambda: local.core.chats.load(local.user_id, chat_id, before, limit))
        return {"messages": page.messages, "has_more": page.has_more}

    async def list_documents(self) -> list[Document]:
        local = self._server_side
        return await _service(lambda: local.core.library.list_documents(local.user_id))

    async def add_document(self, path: str) -> Document:
        """Add a file (relative to ``root_dir``) to the library; it is indexed in the background."""
        local = self._server_side
        return await _service(
            lambda: local.core.library.add(
                local.user_id, parse_body(NewDocument, {"path": path}).path
            )
        )

    async def get_document(self, document_id: str) -> Document:
        local = self._server_side
        return await _service(lambda: local.core.library.get(local.user_id, document_id))

    async def delete_document(self, document_id: str) -> None:
        local = self._server_side
        await _service(lambda: local.core.library.remove(local.user_id, document_id))

    async def passage(self, document_id: str, chunk_id: str) -> Passage:
        """A cited passage, as ``GET documents/{id}/chunks/{chunk_id}`` gives it."""
        local = self._server_side
        return await _service(
            lambda: local.core.library.passage(local.user_id, document_id, chunk_id)
        )

    async def search(self, query: str, k: int | None = None) -> list[SearchResult]:
        local = self._server_side
        return await _service(lambda: local.core.library.search_results(local.user_id, query, k))

    async def export_chat(
        self, chat_id: str | None = None, format: Literal["markdown", "ipynb"] = "markdown"
    ) -> str:
        local = self._server_side
        chat = self._chat_to_export(chat_id)
        exported = await _service(lambda: local.core.chats.export(local.user_id, chat, format))
        return exported.body
