"""What users do with chats, whichever door they come through (WebSocket, REST, in-process)."""

from __future__ import annotations

import asyncio

from ..library.query import query_terms, quote_term
from ..protocol import (
    DEFAULT_PAGE,
    MAX_FEEDBACK_NOTE,
    MAX_PAGE,
    REACTION_EMOJI,
    Chat,
    ChatPatch,
    Message,
    MessageSearchPage,
    NewChat,
    ProtocolError,
    Rating,
    chat_created_frame,
    chat_deleted_frame,
    chat_updated_frame,
    feedback_frame,
    message_frame,
    reaction_frame,
    typing_frame,
)
from ..store import chats as chat_rows
from ..store import reactions as reaction_rows
from ..store.db import Database
from ..store.message_search import search_messages
from .export import EXPORTERS, Exported
from .hub import Hub, Peer
from .replies import Replies

# New messages change a chat's place and count in every chat list, so every connection of the
# user hears of them, at most once per chat per UPDATE_DELAY. With N busy chats and N tabs
# that is N² frames per period: at 0.25 s they were most of the server's work with 50
# writers (py-spy); a second is still live for a chat list.
UPDATE_DELAY = 1.0
SEARCH_PAGE = 20
MAX_SEARCH_PAGE = 50


class ChatService:
    """Chats and messages of one store, with live fan-out to connected peers."""

    def __init__(self, db: Database, hub: Hub, replies: Replies) -> None:
        self.db = db
        self.hub = hub
        self.replies = replies
        self._updates: dict[tuple[str, str], Chat] = {}
        self._update_timer: asyncio.TimerHandle | None = None
        # A finished reply changes its chat's unread count: every connection hears of it now.
        replies.chat_changed = self.announce

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

    def announce(self, user_id: str, chat: Chat) -> None:
        """chat_updated to every connection of the user now (a coalesced one pending for the
        chat would be older: it is dropped)."""
        self._updates.pop((user_id, chat["id"]), None)
        self.hub.to_user(user_id, chat_updated_frame(chat))

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

    # ---- around the conversation -------------------------------------------------------------

    async def react(
        self, user_id: str, chat_id: str, message_id: str, emoji: str, on: bool
    ) -> dict[str, list[str]]:
        """Put an emoji on a message (or take it off); every connection of the user hears."""
        if emoji not in REACTION_EMOJI:
            raise ProtocolError("bad_request", f"emoji must be one of {' '.join(REACTION_EMOJI)}")
        reactions = await self.db.write(
            lambda s: reaction_rows.set_reaction(s, user_id, chat_id, message_id, emoji, on)
        )
        self.hub.to_user(user_id, reaction_frame(chat_id, message_id, reactions))
        return reactions

    async def feedback(
        self, user_id: str, chat_id: str, message_id: str, rating: Rating | None, note: str | None
    ) -> None:
        """Rate an answer (None takes it back); every connection of the user hears."""
        if note is not None and len(note) > MAX_FEEDBACK_NOTE:
            raise ProtocolError(
                "bad_request", f"a feedback note is at most {MAX_FEEDBACK_NOTE} characters"
            )
        note = (note or "").strip() or None
        stored = await self.db.write(
            lambda s: reaction_rows.set_feedback(s, user_id, chat_id, message_id, rating, note)
        )
        self.hub.to_user(user_id, feedback_frame(chat_id, message_id, stored))

    async def read(self, user_id: str, chat_id: str, message_id: str) -> Chat:
        """The user has seen the chat up to this message: its unread count moves everywhere."""
        chat = await self.db.write(lambda s: chat_rows.mark_read(s, user_id, chat_id, message_id))
        if chat is None:
            raise ProtocolError("not_found", "no such message in that chat")
        self.announce(user_id, chat)
        return chat

    async def search(
        self, user_id: str, text: str, chat_id: str | None = None, limit: int | None = None
    ) -> MessageSearchPage:
        """The user's own messages whose words match `text`, newest first. Every term must
        match; the last also as a prefix, for a search box that searches while one types."""
        limit = SEARCH_PAGE if limit is None else limit
        if not 1 <= limit <= MAX_SEARCH_PAGE:
            raise ProtocolError(
                "bad_request", f"limit must be an integer from 1 to {MAX_SEARCH_PAGE}"
            )
        if chat_id is not None:
            await self.get_chat(user_id, chat_id)  # not_found for anyone else's
        terms = query_terms(text)
        if not terms:
            return {"results": [], "has_more": False}
        # Quoted, user text is only ever strings to FTS5, never its syntax.
        match = " ".join([*map(quote_term, terms[:-1]), quote_term(terms[-1]) + "*"])
        results, has_more = await self.db.read(
            lambda s: search_messages(s, user_id, match, chat_id, limit)
        )
        return {"results": results, "has_more": has_more}

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
        self.broadcast_typing(user_id, peer, chat_id, is_typing)

    def broadcast_typing(self, user_id: str, peer: Peer, chat_id: str, is_typing: bool) -> None:
        """Tell the chat's other connections; `peer` must follow the chat already."""
        self.hub.to_chat(
            chat_id, typing_frame(user_id, "user", chat_id, is_typing), exclude=peer, transient=True
        )

    async def stop(self, user_id: str, chat_id: str) -> bool:
        await self.get_chat(user_id, chat_id)
        return self.replies.stop(chat_id)


def _found(value: Chat | None) -> Chat:
    if value is None:
        raise ProtocolError("not_found", "no such chat")
    return value
