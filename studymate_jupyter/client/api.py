"""The REST half of the protocol, declared once: ``StudyMateApi``.

Two implementations: over HTTP (``rest.RestClient``) and in-process through the server's own
services (``local.InProcessApi``). ``StudyMateClient`` offers every method of whichever it has
(``ApiMethod``), so the surface is written here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, Generic, Literal, ParamSpec, Protocol, TypeVar, cast, overload

from ..protocol import (
    AssistantInfo,
    Chat,
    ChatScope,
    Document,
    LibraryName,
    Me,
    MessageSearchPage,
    MessagesPage,
    Passage,
    RetrievalInfo,
    SearchResult,
)

ExportFormat = Literal["markdown", "ipynb"]
P = ParamSpec("P")
R = TypeVar("R")


class ChatApi(Protocol):
    """``me``, ``chats/…`` and ``messages/search``."""

    async def me(self) -> Me:
        """Who the client is: ``user_id`` and ``display_name``."""
        ...

    async def list_chats(self) -> list[Chat]:
        """The user's chats, most recent activity first."""
        ...

    async def create_chat(self, title: str | None = None, scope: ChatScope | None = None) -> Chat:
        """A new, empty chat; ``scope`` limits it to part of the library from the start."""
        ...

    async def get_chat(self, chat_id: str) -> Chat: ...

    async def rename_chat(self, chat_id: str, title: str) -> Chat: ...

    async def set_scope(self, chat_id: str, scope: ChatScope | None) -> Chat:
        """Limit a chat to a folder or chosen documents; ``None``: the whole library again."""
        ...

    async def delete_chat(self, chat_id: str) -> None: ...

    async def get_messages(
        self, chat_id: str, *, before: str | None = None, limit: int | None = None
    ) -> MessagesPage:
        """A page of history, oldest first (the newest 50 by default); ``before`` (a message
        id) pages further back."""
        ...

    async def export_chat(self, chat_id: str, format: ExportFormat = "markdown") -> str:
        """The conversation with its citations, as Markdown or notebook JSON text."""
        ...

    async def search_messages(
        self, query: str, chat_id: str | None = None, limit: int | None = None
    ) -> MessageSearchPage:
        """The user's own messages with every word of ``query`` (the last also as a prefix),
        newest first: ``limit`` (1–50, default 20) of them, in every chat or in ``chat_id``.
        Any text is safe: it is only searched as words."""
        ...


class LibraryApi(Protocol):
    """``documents/…``, ``search`` and ``retrieval``."""

    async def list_documents(self) -> list[Document]: ...

    async def add_document(self, path: str, library: LibraryName = "personal") -> Document:
        """Add a file (relative to the server's root, or absolute inside it) to the user's
        library or (an instructor) the course library; it is indexed in the background."""
        ...

    async def get_document(self, document_id: str) -> Document: ...

    async def delete_document(self, document_id: str) -> None: ...

    async def passage(self, document_id: str, chunk_id: str) -> Passage:
        """A cited passage: its text, pages and anchor, for a citation preview."""
        ...

    async def search(self, query: str, k: int | None = None) -> list[SearchResult]:
        """The library's ``k`` (default 5) best passages for ``query``, with a snippet each."""
        ...

    async def retrieval_info(self) -> RetrievalInfo:
        """How the library ranks passages: the retriever, its signals, and a ``notice`` when
        one is missing (what is lost and how to add it)."""
        ...

    async def assistant_info(self) -> AssistantInfo:
        """Who answers (the assistant, its model) and whether it can now, with a sentence
        saying so (the model server cannot be reached, say)."""
        ...


class StudyMateApi(ChatApi, LibraryApi, Protocol):
    """Everything under ``{base_url}studymate/api/``."""


def new_chat_body(title: str | None, scope: ChatScope | None) -> dict[str, object]:
    """The body of ``POST chats`` for ``create_chat(title, scope)``."""
    body: dict[str, object] = {} if title is None else {"title": title}
    if scope is not None:
        body["scope"] = scope
    return body


class HasApi(Protocol):
    async def api(self) -> StudyMateApi: ...


class ApiMethod(Generic[P, R]):
    """A client method that is the method of the same name of the client's ``api()``."""

    def __init__(self, method: Callable[Concatenate[StudyMateApi, P], Awaitable[R]]) -> None:
        self.name = method.__name__
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, client: None, owner: type[object]) -> ApiMethod[P, R]: ...

    @overload
    def __get__(
        self, client: HasApi, owner: type[object]
    ) -> Callable[P, Coroutine[Any, Any, R]]: ...

    def __get__(
        self, client: HasApi | None, owner: type[object]
    ) -> ApiMethod[P, R] | Callable[P, Coroutine[Any, Any, R]]:
        if client is None:
            return self
        name = self.name

        async def call(*args: P.args, **kwargs: P.kwargs) -> R:
            method = getattr(await client.api(), name)
            return cast(R, await method(*args, **kwargs))

        call.__name__ = call.__qualname__ = name
        call.__doc__ = self.__doc__
        return call
