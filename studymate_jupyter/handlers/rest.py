"""REST endpoints under `{base_url}studymate/api/`."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..protocol import ChatPatch, NewChat
from .base import StudyMateHandler


class MeHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        identity = self.context.identity
        self.write_json(
            {
                "user_id": self.user_id,
                "display_name": identity.display_name(self.current_user),
                "instructor": self.is_instructor,
            }
        )


class AssistantHandler(StudyMateHandler):
    """Who answers and whether it can now (the server's setting: the same for every user)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(await self.context.assistant.info())


class ChatsHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json({"chats": await self.context.chats.list_chats(self.user_id)})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        chat = await self.context.chats.create_chat(self.user_id, self.parse_body(NewChat))
        self.write_json(chat, status=201)


class ChatHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self, chat_id: str) -> None:
        self.write_json(await self.context.chats.get_chat(self.user_id, chat_id))

    @web.authenticated
    @authorized
    async def patch(self, chat_id: str) -> None:
        body = self.parse_body(ChatPatch)
        self.write_json(await self.context.chats.update_chat(self.user_id, chat_id, body))

    @web.authenticated
    @authorized
    async def delete(self, chat_id: str) -> None:
        await self.context.chats.delete_chat(self.user_id, chat_id)
        self.set_status(204)
        self.finish()


class MessagesHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self, chat_id: str) -> None:
        before = self.get_query_argument("before", None) or None
        limit = self.int_argument("limit")
        page = await self.context.chats.load(self.user_id, chat_id, before, limit)
        self.write_json({"messages": page.messages, "has_more": page.has_more})


class MessageSearchHandler(StudyMateHandler):
    """(extension) Full-text search over the user's own messages, newest first."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        text = self.get_query_argument("q", "")
        chat_id = self.get_query_argument("chat_id", None) or None
        limit = self.int_argument("limit")
        self.write_json(await self.context.chats.search(self.user_id, text, chat_id, limit))


class ExportHandler(StudyMateHandler):
    @web.authenticated
    @authorized
    async def get(self, chat_id: str) -> None:
        fmt = self.get_query_argument("format", "markdown")
        exported = await self.context.chats.export(self.user_id, chat_id, fmt)
        filename = _safe_filename(exported.chat["title"]) + exported.suffix
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.finish(exported.body, set_content_type=exported.media_type)


def _safe_filename(title: str) -> str:
    kept = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()
    return kept[:80] or "chat"
