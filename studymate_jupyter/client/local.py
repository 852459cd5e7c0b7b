"""StudyMate in this process, for a kernel that cannot reach a Jupyter server (VS Code, a plain
Python process): the client without a server.

``LocalServer`` builds the services the server runs (``StudyMate.build_services``) on the same
SQLite file a server would use: WAL lets this process and a server share it, so nothing is
lost. Frames go through the same ChatConnection the WebSocket handler uses (``LocalSocket``), and
the REST half through the same service calls the REST handlers make (``InProcessApi``);
only live updates from other processes are missing. The one client module that imports the
server's insides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from tornado.websocket import WebSocketClosedError

from ..protocol import (
    AssistantInfo,
    Chat,
    ChatPatch,
    ChatScope,
    Document,
    LibraryName,
    Me,
    MessageSearchPage,
    MessagesPage,
    NewChat,
    NewDocument,
    Passage,
    ProtocolError,
    RetrievalInfo,
    SearchResult,
    parse_body,
)
from .api import ExportFormat, StudyMateApi, new_chat_body
from .client import StudyMateClient
from .discovery import ServerInfo
from .errors import StudyMateError

if TYPE_CHECKING:
    from tornado.websocket import WebSocketClientConnection
    from traitlets.config import Config

    from ..chat.connection import ChatConnection
    from ..services import Services

T = TypeVar("T")

#: Stands in for a server address in logs and in ``client.server``; nothing connects to it.
IN_PROCESS = ServerInfo(base_url="http://in-process/", token="")


class LocalServer:
    """Services and sessions in-process. Create, use and close it on one event loop."""

    def __init__(self, root_dir: str | Path, **traits: Any) -> None:
        # Imported here: the server side (jupyter-server, SQLAlchemy) only when really used.
        from ..app import StudyMate

        # The c.StudyMate settings of the Jupyter config files, as `jupyter server` reads them
        # (the same database, instructors, assistant); trait values passed here win over them.
        self.app = StudyMate(config=jupyter_server_config(), **traits)
        self.root_dir = Path(root_dir)
        self.services: Services = self.app.build_services(self.root_dir)
        self.user_id = str(self.app.owner_id)

    def connect(self, on_frame: Callable[[str], None]) -> ChatConnection:
        """An open connection of the owner that delivers server frames to ``on_frame``."""
        from ..chat.connection import ChatConnection

        def deliver(frame: str, transient: bool = False) -> None:
            on_frame(frame)  # in process nothing waits to be sent, so nothing is dropped

        connection = ChatConnection(
            self.services.chats,
            self.user_id,
            deliver,
            max_content_bytes=int(self.app.max_content_bytes),
            rate=0.0,  # one local user, no one to protect
            burst=0.0,
        )
        connection.open()
        return connection

    async def close(self) -> None:
        await self.services.close()


def jupyter_server_config() -> Config:
    """What jupyter_server_config.py/.json on the Jupyter config path set."""
    from jupyter_server.serverapp import ServerApp

    app = ServerApp()
    app.load_config_file()
    return app.config


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
            handling = self._connection.handle(raw)
            if handling is not None:
                await handling

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


async def _service(call: Callable[[], Awaitable[T]]) -> T:
    """Validate and call a service as a REST handler would; its ProtocolError becomes the
    client's StudyMateError."""
    try:
        return await call()
    except ProtocolError as exc:
        raise StudyMateError(exc.code, exc.message, ref=exc.ref) from None


class InProcessApi:
    """``StudyMateApi`` through the server's own services, with the REST handlers' bodies."""

    def __init__(self, server: LocalServer) -> None:
        self.user_id = server.user_id
        self.instructor = server.user_id in server.app.instructors
        self.chats = server.services.chats
        self.library = server.services.library
        self.assistant = server.services.replies.assistant

    async def me(self) -> Me:
        return {
            "user_id": self.user_id,
            "display_name": self.user_id,
            "instructor": self.instructor,
        }

    async def list_chats(self) -> list[Chat]:
        return await _service(lambda: self.chats.list_chats(self.user_id))

    async def create_chat(self, title: str | None = None, scope: ChatScope | None = None) -> Chat:
        body = new_chat_body(title, scope)
        return await _service(
            lambda: self.chats.create_chat(self.user_id, parse_body(NewChat, body))
        )

    async def get_chat(self, chat_id: str) -> Chat:
        return await _service(lambda: self.chats.get_chat(self.user_id, chat_id))

    async def rename_chat(self, chat_id: str, title: str) -> Chat:
        return await self._patch(chat_id, {"title": title})

    async def set_scope(self, chat_id: str, scope: ChatScope | None) -> Chat:
        return await self._patch(chat_id, {"scope": scope})

    async def _patch(self, chat_id: str, body: dict[str, object]) -> Chat:
        return await _service(
            lambda: self.chats.update_chat(self.user_id, chat_id, parse_body(ChatPatch, body))
        )

    async def delete_chat(self, chat_id: str) -> None:
        await _service(lambda: self.chats.delete_chat(self.user_id, chat_id))

    async def get_messages(
        self, chat_id: str, *, before: str | None = None, limit: int | None = None
    ) -> MessagesPage:
        page = await _service(lambda: self.chats.load(self.user_id, chat_id, before, limit))
        return {"messages": page.messages, "has_more": page.has_more}

    async def export_chat(self, chat_id: str, format: ExportFormat = "markdown") -> str:
        exported = await _service(lambda: self.chats.export(self.user_id, chat_id, format))
        return exported.body

    async def search_messages(
        self, query: str, chat_id: str | None = None, limit: int | None = None
    ) -> MessageSearchPage:
        return await _service(lambda: self.chats.search(self.user_id, query, chat_id, limit))

    async def list_documents(self) -> list[Document]:
        return await _service(lambda: self.library.list_documents(self.user_id))

    async def add_document(self, path: str, library: LibraryName = "personal") -> Document:
        async def add() -> Document:
            body = parse_body(NewDocument, {"path": path, "library": library})
            return await self.library.add(
                self.user_id, body.path, body.library, instructor=self.instructor
            )

        return await _service(add)

    async def get_document(self, document_id: str) -> Document:
        return await _service(lambda: self.library.get(self.user_id, document_id))

    async def delete_document(self, document_id: str) -> None:
        await _service(
            lambda: self.library.remove(self.user_id, document_id, instructor=self.instructor)
        )

    async def passage(self, document_id: str, chunk_id: str) -> Passage:
        return await _service(lambda: self.library.passage(self.user_id, document_id, chunk_id))

    async def search(self, query: str, k: int | None = None) -> list[SearchResult]:
        return await _service(lambda: self.library.search_results(self.user_id, query, k))

    async def retrieval_info(self) -> RetrievalInfo:
        return self.library.retrieval_info()

    async def assistant_info(self) -> AssistantInfo:
        return await self.assistant.info()


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
        self._in_process: InProcessApi | None = None

    async def start(self) -> None:
        if self.local is None:
            self.local = LocalServer(self.root_dir, **self.traits)
            self._in_process = InProcessApi(self.local)
        await super().start()

    async def close(self) -> None:
        await super().close()
        local, self.local, self._in_process = self.local, None, None
        if local is not None:
            await local.close()

    async def api(self) -> StudyMateApi:
        """The REST half of the protocol, through the services of this process."""
        if self._in_process is None:
            raise StudyMateError("unavailable", "call start() or connect() first")
        return self._in_process

    async def _open(self) -> WebSocketClientConnection:
        if self.local is None:
            raise StudyMateError("unavailable", "the in-process server is closed")
        return cast("WebSocketClientConnection", LocalSocket(self.local))
