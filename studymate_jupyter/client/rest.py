"""The REST half of the protocol (``{base_url}studymate/api/…``) over tornado's AsyncHTTPClient."""

from __future__ import annotations

import json
from typing import Any, Literal, cast
from urllib.parse import quote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from .discovery import ServerInfo
from .errors import StudyMateError
from .types import Chat, ChatScope, Document, Me, MessagesPage, Passage, SearchResult

_STATUS_CODES = {
    400: "bad_request",
    401: "forbidden",
    403: "forbidden",
    404: "not_found",
    413: "too_large",
    429: "rate_limited",
}


class RestClient:
    """Chats, messages and export over HTTP, authenticated with ``Authorization: token``."""

    def __init__(self, server: ServerInfo, *, request_timeout: float = 30.0) -> None:
        self.server = server
        self.request_timeout = request_timeout

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.server.token:
            headers["Authorization"] = f"token {self.server.token}"
        return headers

    async def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, str | int | None] | None = None,
    ) -> tuple[int, str]:
        """Send one request; return status and text, or raise StudyMateError."""
        url = self.server.api_url(path)
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        if params:
            url = f"{url}?{urlencode(params)}"
        headers = self.headers
        data: str | None = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        elif method in ("POST", "PATCH", "PUT"):
            data = ""
        request = HTTPRequest(
            url,
            method=method,
            headers=headers,
            body=data,
            request_timeout=self.request_timeout,
            follow_redirects=False,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except OSError as exc:
            raise StudyMateError("unavailable", f"cannot reach {url}: {exc}") from exc
        text = response.body.decode("utf-8", "replace") if response.body else ""
        if response.code >= 400 or response.code < 200:
            code = _STATUS_CODES.get(response.code, "unavailable")
            message = text or response.reason or str(response.code)
            try:
                payload = json.loads(text)
                if isinstance(payload, dict):
                    code = str(payload.get("code") or code)
                    message = str(payload.get("message") or message)
            except ValueError:
                pass
            raise StudyMateError(code, message, status=response.code)
        return response.code, text

    async def json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, str | int | None] | None = None,
    ) -> Any:
        _, text = await self.request(method, path, body, query)
        return json.loads(text) if text else None

    async def me(self) -> Me:
        """Who the token authenticates as."""
        return cast("Me", await self.json("GET", "me"))

    async def list_chats(self) -> list[Chat]:
        """The user's chats, newest first."""
        payload = await self.json("GET", "chats")
        return cast("list[Chat]", payload["chats"])

    async def create_chat(self, title: str | None = None, scope: ChatScope | None = None) -> Chat:
        """A new, empty chat; ``scope`` limits it to part of the library from the start."""
        body: dict[str, Any] = {} if title is None else {"title": title}
        if scope is not None:
            body["scope"] = scope
        return cast("Chat", await self.json("POST", "chats", body))

    async def get_chat(self, chat_id: str) -> Chat:
        return cast("Chat", await self.json("GET", f"chats/{quote(chat_id, safe='')}"))

    async def rename_chat(self, chat_id: str, title: str) -> Chat:
        path = f"chats/{quote(chat_id, safe='')}"
        return cast("Chat", await self.json("PATCH", path, {"title": title}))

    async def set_scope(self, chat_id: str, scope: ChatScope | None) -> Chat:
        """Limit a chat to a folder or chosen documents; ``None``: the whole library again."""
        path = f"chats/{quote(chat_id, safe='')}"
        return cast("Chat", await self.json("PATCH", path, {"scope": scope}))

    async def delete_chat(self, chat_id: str) -> None:
        await self.request("DELETE", f"chats/{quote(chat_id, safe='')}")

    async def get_messages(
        self, chat_id: str, *, before: str | None = None, limit: int | None = None
    ) -> MessagesPage:
        """A page of history, oldest first; ``before`` pages further back."""
        path = f"chats/{quote(chat_id, safe='')}/messages"
        payload = await self.json("GET", path, query={"before": before, "limit": limit})
        return cast("MessagesPage", payload)

    async def export_chat(
        self, chat_id: str, format: Literal["markdown", "ipynb"] = "markdown"
    ) -> str:
        """The conversation with its citations, as Markdown or notebook JSON text."""
        path = f"chats/{quote(chat_id, safe='')}/export"
        _, text = await self.request("GET", path, query={"format": format})
        return text

    # --- the study library ------------------------------------------------------------------

    async def list_documents(self) -> list[Document]:
        payload = await self.json("GET", "documents")
        return cast(list[Document], payload["documents"])

    async def add_document(self, path: str) -> Document:
        """Add a file (relative to the server's root_dir); it is indexed in the background."""
        return cast(Document, await self.json("POST", "documents", {"path": path}))

    async def get_document(self, document_id: str) -> Document:
        return cast(Document, await self.json("GET", f"documents/{quote(document_id, safe='')}"))

    async def delete_document(self, document_id: str) -> None:
        await self.request("DELETE", f"documents/{quote(document_id, safe='')}")

    async def passage(self, document_id: str, chunk_id: str) -> Passage:
        """A cited passage: its text, pages and anchor, for a citation preview."""
        path = f"documents/{quote(document_id, safe='')}/chunks/{quote(chunk_id, safe='')}"
        return cast(Passage, await self.json("GET", path))

    async def search(self, query: str, k: int | None = None) -> list[SearchResult]:
        """The library's best passages for ``query`` (citations plus a ``snippet``)."""
        payload = await self.json("GET", "search", query={"q": query, "k": k})
        return cast(list[SearchResult], payload["results"])
