"""Pairing each sent message with the assistant message that answers it, as replies stream."""

from __future__ import annotations

from ..protocol import Message
from .errors import StudyMateError
from .reply import Reply
from .store import MessageStore, pair_replies


class Pairing:
    """The Replies of messages sent and not yet answered in full.

    A Reply is bound to its assistant message once both its echo and an answer are in the
    chat's store; from then on every state of that message is passed on to it.
    """

    def __init__(self) -> None:
        self._by_question: dict[str, Reply] = {}
        self._by_answer: dict[str, Reply] = {}
        # Chats whose history is being reloaded: replies are not paired there until the store
        # is whole again (a live reply may arrive before the history).
        self.syncing: set[str] = set()

    def add(self, reply: Reply) -> None:
        self._by_question[reply.message_id] = reply

    def echoed(self, message: Message) -> None:
        """The server stored the user message ``message``."""
        reply = self._by_question.get(message["id"])
        if reply is not None:
            reply._echo(message)

    def chats(self) -> list[str]:
        """Every chat with a message still waiting for (the end of) its reply."""
        chats: list[str] = []
        for reply in self._by_question.values():
            if reply.chat_id and reply.chat_id not in chats:
                chats.append(reply.chat_id)
        return chats

    def is_answer(self, message_id: str) -> bool:
        return message_id in self._by_answer

    def match(
        self,
        chat_id: str,
        store: MessageStore | None,
        updated: str | None = None,
        *,
        resynced: bool = False,
    ) -> None:
        """Bind unanswered sends in ``chat_id`` to their replies and pass on reply states."""
        if store is None or chat_id in self.syncing:
            return
        if resynced:
            # Replies bound earlier may have moved on (or ended) while we were away.
            for answer_id, reply in list(self._by_answer.items()):
                if reply.chat_id == chat_id:
                    self._feed(store, answer_id)
        waiting = [
            r for r in self._by_question.values() if r.chat_id == chat_id and r.reply_id is None
        ]
        if waiting:
            pairs = pair_replies(store)
            for reply in waiting:
                answer = pairs.get(reply.message_id)
                if answer is not None and reply.echoed.done():
                    reply.reply_id = answer
                    self._by_answer[answer] = reply
                    self._feed(store, answer)
        if updated is not None and updated in self._by_answer:
            self._feed(store, updated)

    def _feed(self, store: MessageStore, answer_id: str) -> None:
        reply = self._by_answer.get(answer_id)
        message = store.get(answer_id)
        if reply is None or message is None:
            return
        if reply._update(message):
            del self._by_answer[answer_id]
            self._by_question.pop(reply.message_id, None)

    def fail(self, message_id: str, error: BaseException) -> None:
        """The server refused the message ``message_id``: its Reply fails."""
        reply = self._by_question.pop(message_id, None)
        if reply is not None:
            reply._fail(error)

    def forget_chat(self, chat_id: str, error: BaseException) -> list[str]:
        """Fail every Reply in ``chat_id``; return the ids of their messages."""
        gone = [r for r in self._by_question.values() if r.chat_id == chat_id]
        for reply in gone:
            del self._by_question[reply.message_id]
            if reply.reply_id is not None:
                self._by_answer.pop(reply.reply_id, None)
            reply._fail(error)
        return [reply.message_id for reply in gone]

    def fail_all(self, reason: str) -> None:
        """Every Reply fails with ``unavailable`` (the client is closing)."""
        for reply in list(self._by_question.values()):
            reply._fail(StudyMateError("unavailable", reason, ref=reply.message_id))
        self._by_question.clear()
        self._by_answer.clear()
