"""What users do with chats, whichever door they come through (WebSocket, REST, in-process)."""

from __future__ import annotations

import asyncio

from ..protocol import (
    DEFAULT_PAGE,
    MAX_PAGE,
    Chat,
    ChatPatch,
    Message,
    NewChat,
    ProtocolError,
    chat_created_frame,
    chat_deleted_frame,
    chat_updated_frame,
    message_frame,
    typing_frame,
)
from ..store import chats as chat_rows
from ..store.db import Database
from .export import EXPORTERS, Exported
from .hub import Hub, Peer
from .replies import Replies

# New messages change a chat's place and count in every chat list, so every connection of the
# user hears of them, at most once per chat per UPDATE_DELAY. With N busy chats and N tabs
# that is N² frames per period: at 0.25 s they were most of the server's work with 50
# writers (py-spy); a second is still live for a chat list.
UPDATE_DELAY = 1.0


class ChatService:
    """Chats and messages of one store, with live fan-out to connected peers."""

    def __init__(self, db: Database, hub: Hub, replies: Replies) -> None:
        self.db = db
        self.hub = hub
        self.replies = replies
        self._updates: dict[tuple[str, str], Chat] = {}
        self._update_timer: asyncio.TimerHandle | None = None

    # ---- chats -------------------------------------------------------------------------------

    async def list_chats(self, user_id: str) -> list[Chat]:
        return await self.db.read(lambda s: chat_rows.list_chats(s, user_id))

    async def get_chat(self, user_id: str, chat_id: str) -> Chat:
        return _found(await self.db.read(lambda s: chat_rows.get_chat(s, user_id, chat_id)))

    async def create_chat(self, user_id: str, body: NewChat) -> Chat:
        chat = await self.db.write(
            lambda s: chat_rows.create_chat(s, user_id, body.title, body.chat_scope)
        )
        self.hub.to_user(user_id, chat_created_frame(chat))
        return chat

    async def update_chat(self, user_id: str, chat_id: str, body: ChatPatch) -> Chat:
        if not body.model_fields_set:
            raise ProtocolError("bad_request", "nothing to change: give a title or a scope")
        chat = _found(
            await self.db.write(
                lambda s: chat_rows.update_chat(
                    s, user_id, chat_id, body.title, body.chat_scope, body.clears_scope
                )
            )
        )
        self.hub.to_user(user_id, chat_updated_frame(chat))
        return chat

    async def delete_chat(self, user_id: str, chat_id: str) -> None:
        await self.get_chat(user_id, chat_id)
        # End the reply first so nothing more is stored into the chat being deleted.
        self.replies.forget_chat(chat_id)
        if not await self.db.write(lambda s: chat_rows.delete_chat(s, user_id, chat_id)):
            raise ProtocolError("not_found", "no such chat")
        self._updates.pop((user_id, chat_id), None)
        self.hub.to_user(user_id, chat_deleted_frame(chat_id))
        self.hub.drop_chat(chat_id)

    def _announce_soon(self, user_id: str, chat: Chat) -> None:
        """chat_updated for a new message, coalesced per chat over UPDATE_DELAY."""
        self._updates[(user_id, chat["id"])] = chat
        if self._update_timer is None:
            loop = asyncio.get_running_loop()
            self._update_timer = loop.call_later(UPDATE_DELAY, self._send_updates)

    def _send_updates(self) -> None:
        self._update_timer = None
        updates, self._updates = self._updates, {}
        for (user_id, _), chat in updates.items():
            self.hub.to_user(user_id, chat_updated_frame(chat))

    # ---- messages ----------------------------------------------------------------------------

    async def send(
        self, user_id: str, chat_id: str | None, message_id: str, content: str, peer: Peer | None
    ) -> Message:
        """Store a user message (once per id), echo it to the chat, and queue the reply."""
        stored = await self.db.write(
            lambda s: chat_rows.add_user_message(s, user_id, chat_id, message_id, content)
        )
        if stored is None:
            raise ProtocolError("not_found", "no such chat", ref=message_id)
        chat = stored.chat
        message = stored.message
        echo = message_frame(message, user_id, chat["id"])
        if not stored.is_new:
            # A resend after a reconnect: echo what is stored to the sender, start nothing.
            if peer is not None:
                self.subscribe(peer, chat["id"])
                peer.send(echo)
            return message
        if stored.created_chat:
            # The sender hears of its new chat before its message is echoed.
            created = chat_created_frame(chat)
            if peer is not None:
                peer.send(created)
            self.hub.to_user(user_id, created, exclude=peer)
        else:
            self._announce_soon(user_id, chat)
        if peer is not None:
            self.subscribe(peer, chat["id"])
        self.hub.to_chat(chat["id"], echo)
        self.replies.enqueue(user_id, message)
        return message

    async def load(
        self, user_id: str, chat_id: str, before: str | None = None, limit: int | None = None
    ) -> chat_rows.Page:
        """A page of history: the newest DEFAULT_PAGE messages, or ``limit`` (at most
        MAX_PAGE), before the message ``before`` if given."""
        limit = DEFAULT_PAGE if limit is None else limit
        if not 1 <= limit <= MAX_PAGE:
            raise ProtocolError("bad_request", f"limit must be an integer from 1 to {MAX_PAGE}")
        page = await self.db.read(
            lambda s: chat_rows.load_messages(s, user_id, chat_id, before, limit)
        )
        if page is None:
            raise ProtocolError("not_found", "no such chat or message")
        messages = await self.replies.overlay(user_id, chat_id, page.messages)
        return chat_rows.Page(messages, page.has_more)

    async def export(self, user_id: str, chat_id: str, fmt: str) -> Exported:
        """The chat and its whole conversation as a document (``EXPORTERS``' formats)."""
        exporter = EXPORTERS.get(fmt)
        if exporter is None:
            raise ProtocolError("bad_request", f"format must be one of: {', '.join(EXPORTERS)}")
        chat = await self.get_chat(user_id, chat_id)
        return Exported(chat, *exporter(chat, await self.all_messages(user_id, chat_id)))

    async def all_messages(self, user_id: str, chat_id: str) -> list[Message]:
        messages = await self.db.read(lambda s: chat_rows.all_messages(s, user_id, chat_id))
        if messages is None:
            raise ProtocolError("not_found", "no such chat")
        return await self.replies.overlay(user_id, chat_id, messages)

    # ---- live --------------------------------------------------------------------------------

    async def follow(self, user_id: str, peer: Peer, chat_id: str) -> None:
        """Subscribe a peer to one of its user's chats (not_found for anyone else's)."""
        if not self.hub.is_subscribed(peer, chat_id):
            await self.get_chat(user_id, chat_id)
            self.subscribe(peer, chat_id)

    def subscribe(self, peer: Peer, chat_id: str) -> None:
        if self.hub.subscribe(peer, chat_id):
            self.replies.catch_up(peer, chat_id)

    async def typing(self, user_id: str, peer: Peer, chat_id: str, is_typing: bool) -> None:
        await self.follow(user_id, peer, chat_id)
        self.hub.to_chat(chat_id, typing_frame(user_id, "user", chat_id, is_typing), exclude=peer)

    async def stop(self, user_id: str, chat_id: str) -> bool:
        await self.get_chat(user_id, chat_id)
        return self.replies.stop(chat_id)


def _found(value: Chat | None) -> Chat:
    if value is None:
        raise ProtocolError("not_found", "no such chat")
    return value
