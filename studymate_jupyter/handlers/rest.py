"""REST endpoints under `{base_url}studymate/api/`."""

from __future__ import annotations

from typing import Annotated

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, ConfigDict, Field
from tornado import web

from ..protocol import DEFAULT_PAGE, MAX_PAGE, ProtocolError, ScopeBody
from .base import StudyMateHandler

Title = Annotated[str, Field(min_length=1, max_length=200)]


class NewChat(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    title: Title = "New chat"
    # (extension) A chat can be limited to part of the library before its first question.
    scope: ScopeBody | None = None


class ChatPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    title: Title | None = None
    # null clears the scope (the whole library again); absent leaves it as it is.
    scope: ScopeBody | None = None


class MeHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        identity = self.services.identity
        self.write_json(
            {"user_id": self.user_id, "display_name": identity.display_name(self.current_user)}
        )


class ChatsHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json({"chats": await self.services.chats.list_chats(self.user_id)})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.parse_body(NewChat)
        scope = body.scope.as_scope() if body.scope else None
        chat = await self.services.chats.create_chat(
            self.user_id, body.title.strip() or "New chat", scope
        )
        self.write_json(chat, status=201)


class ChatHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self, chat_id: str) -> None:
        self.write_json(await self.services.chats.get_chat(self.user_id, chat_id))

    @web.authenticated
    @authorized
    async def patch(self, chat_id: str) -> None:
        body = self.parse_body(ChatPatch)
        if not body.model_fields_set:
            raise ProtocolError("bad_request", "nothing to change: give a title or a scope")
        scope = body.scope.as_scope() if body.scope else None
        chat = await self.services.chats.update_chat(
            self.user_id,
            chat_id,
            title=body.title,
            scope=scope,
            clear_scope="scope" in body.model_fields_set and body.scope is None,
        )
        self.write_json(chat)

    @web.authenticated
    @authorized
    async def delete(self, chat_id: str) -> None:
        await self.services.chats.delete_chat(self.user_id, chat_id)
        self.set_status(204)
        self.finish()


class MessagesHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self, chat_id: str) -> None:
        before = self.get_query_argument("before", None) or None
        limit = self._limit()
        page = await self.services.chats.load(self.user_id, chat_id, before, limit)
        self.write_json({"messages": page.messages, "has_more": page.has_more})

    def _limit(self) -> int:
        raw = self.get_query_argument("limit", str(DEFAULT_PAGE))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
            raise ProtocolError("bad_request", f"limit must be an integer from 1 to {MAX_PAGE}")
        return int(raw)


class ExportHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self, chat_id: str) -> None:
        fmt = self.get_query_argument("format", "markdown")
        exported = await self.services.chats.export(self.user_id, chat_id, fmt)
        filename = _safe_filename(exported.chat["title"]) + exported.suffix
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.finish(exported.body, set_content_type=exported.media_type)


def _safe_filename(title: str) -> str:
    kept = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()
    return kept[:80] or "chat"
