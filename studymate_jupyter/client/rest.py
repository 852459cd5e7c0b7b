"""The REST half of the protocol (``{base_url}studymate/api/…``) over tornado's AsyncHTTPClient:
the HTTP implementation of ``api.StudyMateApi``."""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import quote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

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
from .api import ExportFormat, new_chat_body
from .discovery import ServerInfo
from .errors import StudyMateError

_STATUS_CODES = {
    400: "bad_request",
    401: "forbidden",
    403: "forbidden",
    404: "not_found",
    413: "too_large",
    429: "rate_limited",
}


class RestClient:
    """``StudyMateApi`` over HTTP, authenticated with ``Authorization: token``."""

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
        return cast("Me", await self.json("GET", "me"))

    async def list_chats(self) -> list[Chat]:
        payload = await self.json("GET", "chats")
        return cast("list[Chat]", payload["chats"])

    async def create_chat(self, title: str | None = None, scope: ChatScope | None = None) -> Chat:
        return cast("Chat", await self.json("POST", "chats", new_chat_body(title, scope)))

    async def get_chat(self, chat_id: str) -> Chat:
        return cast("Chat", await self.json("GET", f"chats/{quote(chat_id, safe='')}"))

    async def rename_chat(self, chat_id: str, title: str) -> Chat:
        path = f"chats/{quote(chat_id, safe='')}"
        return cast("Chat", await self.json("PATCH", path, {"title": title}))

    async def set_scope(self, chat_id: str, scope: ChatScope | None) -> Chat:
        path = f"chats/{quote(chat_id, safe='')}"
        return cast("Chat", await self.json("PATCH", path, {"scope": scope}))

    async def delete_chat(self, chat_id: str) -> None:
        await self.request("DELETE", f"chats/{quote(chat_id, safe='')}")

    async def get_messages(
        self, chat_id: str, *, before: str | None = None, limit: int | None = None
    ) -> MessagesPage:
        path = f"chats/{quote(chat_id, safe='')}/messages"
        payload = await self.json("GET", path, query={"before": before, "limit": limit})
        return cast("MessagesPage", payload)

    async def export_chat(self, chat_id: str, format: ExportFormat = "markdown") -> str:
        path = f"chats/{quote(chat_id, safe='')}/export"
        _, text = await self.request("GET", path, query={"format": format})
        return text

    async def search_messages(
        self, query: str, chat_id: str | None = None, limit: int | None = None
    ) -> MessageSearchPage:
        params: dict[str, str | int | None] = {"q": query, "chat_id": chat_id, "limit": limit}
        return cast("MessageSearchPage", await self.json("GET", "messages/search", query=params))

    # --- the study library ------------------------------------------------------------------

    async def list_documents(self) -> list[Document]:
        payload = await self.json("GET", "documents")
        return cast(list[Document], payload["documents"])

    async def add_document(self, path: str, library: LibraryName = "personal") -> Document:
        body = {"path": path, "library": library}
        return cast(Document, await self.json("POST", "documents", body))

    async def get_document(self, document_id: str) -> Document:
        return cast(Document, await self.json("GET", f"documents/{quote(document_id, safe='')}"))

    async def delete_document(self, document_id: str) -> None:
        await self.request("DELETE", f"documents/{quote(document_id, safe='')}")

    async def passage(self, document_id: str, chunk_id: str) -> Passage:
        path = f"documents/{quote(document_id, safe='')}/chunks/{quote(chunk_id, safe='')}"
        return cast(Passage, await self.json("GET", path))

    async def search(self, query: str, k: int | None = None) -> list[SearchResult]:
        payload = await self.json("GET", "search", query={"q": query, "k": k})
        return cast(list[SearchResult], payload["results"])

    async def retrieval_info(self) -> RetrievalInfo:
        return cast(RetrievalInfo, await self.json("GET", "retrieval"))

    async def assistant_info(self) -> AssistantInfo:
        return cast(AssistantInfo, await self.json("GET", "assistant"))
