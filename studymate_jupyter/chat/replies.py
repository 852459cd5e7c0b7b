"""Assistant replies: one at a time per chat, streamed to every subscriber, stored at the end.

A reply belongs to its chat, not to the connection that asked: it keeps going when that
connection closes, and a connection that subscribes mid-reply gets its current state at once.
Within this process a chat's replies queue behind each other; where other servers share the
database (PostgreSQL), each reply also holds its chat's claim (store/claims.py) from before
its row is stored until its final state is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..assistant import Answer, Assistant, AssistantError, Question, Turn
from ..assistant.markers import settle
from ..passages import Scope
from ..protocol import (
    Chat,
    Citation,
    Message,
    MessageStatus,
    message_delta_frame,
    message_frame,
    typing_frame,
)
from ..store import chats as chat_rows
from ..store.claims import ChatClaims, claims_for
from ..store.db import Database
from .hub import Hub, Peer

log = logging.getLogger("studymate.replies")

# Earlier turns a provider is given; it keeps those its context budget allows.
HISTORY_TURNS = 20
# Ends a reply whose provider failed without saying why (the log has its class).
PROVIDER_FAILED = "The assistant failed while answering; the server's log says more."
# "lost": another server claimed the chat while this one's claim connection was down.
EndReason = Literal["stopped", "deleted", "shutdown", "lost"]


@dataclass
class LiveReply:
    """A reply being produced: the message as it stands and when it was last sent."""

    user_id: str
    message: Message
    parts: list[str] = field(default_factory=list)
    length: int = 0
    sent_length: int = 0
    last_sent: float = 0.0
    flush_timer: asyncio.TimerHandle | None = None
    end_reason: EndReason | None = None

    def snapshot(self) -> Message:
        content = "".join(self.parts)
        self.parts = [content]
        return {**self.message, "content": content}


@dataclass(frozen=True)
class ReplyJob:
    user_id: str
    chat_id: str
    message_id: str
    text: str


class Replies:
    """Runs the assistant for each chat in order and fans its stream out through the hub."""

    def __init__(
        self,
        db: Database,
        hub: Hub,
        assistant: Assistant,
        frame_interval: float = 0.05,
        claims: ChatClaims | None = None,
    ) -> None:
        self.db = db
        self.hub = hub
        self.assistant = assistant
        self.claims = claims if claims is not None else claims_for(db.engine, self._claim_lost)
        # Coalesce pieces so a subscriber sees at most 1 / frame_interval frames a second.
        self.frame_interval = frame_interval
        self._queues: dict[str, asyncio.Queue[ReplyJob]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._current: dict[str, asyncio.Task[None]] = {}
        self.live: dict[str, LiveReply] = {}
        # Replies that have ended, by chat, while their final state is being stored.
        self._ending: dict[str, Message] = {}
        # The write storing each ending reply: its chat's claim is released only after it.
        self._storing: dict[str, asyncio.Future[Chat | None]] = {}
        # Told of a chat whose reply has ended and been stored (its unread count moved).
        self.chat_changed: Callable[[str, Chat], None] | None = None

    def enqueue(self, user_id: str, question: Message) -> None:
        """Answer a stored user message after the replies already queued for its chat."""
        chat_id = question["chat_id"]
        queue = self._queues.setdefault(chat_id, asyncio.Queue())
        queue.put_nowait(ReplyJob(user_id, chat_id, question["id"], question["content"]))
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.create_task(self._work(chat_id, queue))

    async def _work(self, chat_id: str, queue: asyncio.Queue[ReplyJob]) -> None:
        try:
            while not queue.empty():
                job = queue.get_nowait()
                task = asyncio.create_task(self._claimed_reply(job))
                self._current[chat_id] = task
                try:
                    await asyncio.shield(task)
                except asyncio.CancelledError:
                    # Only the worker was cancelled (chat deleted or shutdown): let the reply
                    # store its final state before the worker goes.
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    raise
                finally:
                    self._current.pop(chat_id, None)
        finally:
            self._workers.pop(chat_id, None)
            self._queues.pop(chat_id, None)

    async def resume(self, user_id: str | None = None) -> int:
        """Answer the questions a stopped server left queued (only `user_id`'s when given: the
        one a hub's single-user server serves); return how many. Those in a chat that another
        live server holds are its own to answer."""
        questions = await self.db.read(lambda s: chat_rows.unanswered_questions(s, user_id))
        for owner, question in questions:
            self.enqueue(owner, question)
        return len(questions)

    def stop(self, chat_id: str, reason: EndReason = "stopped") -> bool:
        """End the reply in progress in a chat; True when there was one."""
        live = self.live.get(chat_id)
        task = self._current.get(chat_id)
        if live is None or task is None:
            return False
        live.end_reason = reason
        task.cancel()
        return True

    def forget_chat(self, chat_id: str) -> None:
        """The chat was deleted: end its reply, drop what is queued, store nothing more."""
        self.stop(chat_id, "deleted")
        worker = self._workers.get(chat_id)
        if worker is not None:
            worker.cancel()

    async def shutdown(self) -> None:
        """Store every reply in progress as `error` with what it had, then stop."""
        for chat_id in list(self.live):
            self.stop(chat_id, "shutdown")
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await self.claims.close()

    def catch_up(self, peer: Peer, chat_id: str) -> None:
        """Send a newly subscribed peer the reply in progress, as it stands."""
        live = self.live.get(chat_id)
        if live is None:
            return
        peer.send(self._typing_frame(chat_id, True), transient=True)
        peer.send(self._message_frame(live, live.snapshot()))

    async def overlay(self, user_id: str, chat_id: str, messages: list[Message]) -> list[Message]:
        """Messages read from the store, with every reply among them as it stands now.

        The read ran on a database thread while replies went on, so a reply it found
        streaming is now live (its live state), ending (its final state, being stored) or
        stored (read again). Sent after that reply's final frame, a stale "streaming" copy
        would leave a client waiting for a reply that will never grow.
        """
        stored: dict[str, Message] = {}
        while stale := [
            m["id"]
            for m in messages
            if m["status"] == "streaming" and m["id"] not in stored and not self._now(chat_id, m)
        ]:
            # Ended and stored since the read: a read started now sees the final state.
            stored |= await self.db.read(lambda s: chat_rows.messages_by_id(s, user_id, stale))
        # No await from here on: what is sent is what is true now.
        return [self._now(chat_id, m) or stored.get(m["id"], m) for m in messages]

    def _now(self, chat_id: str, message: Message) -> Message | None:
        """A reply's state while it is live or ending; None once it is stored (or not one)."""
        live = self.live.get(chat_id)
        if live is not None and live.message["id"] == message["id"]:
            return live.snapshot()
        ending = self._ending.get(chat_id)
        return ending if ending is not None and ending["id"] == message["id"] else None

    # ---- one reply ---------------------------------------------------------------------------

    async def _claimed_reply(self, job: ReplyJob) -> None:
        await self.claims.claim(job.chat_id)
        try:
            await self._reply(job)
        finally:
            # A cancelled reply leaves its final write running: the claim waits for it, so no
            # server sees the reply streaming in a chat nobody holds.
            storing = self._storing.pop(job.chat_id, None)
            if storing is not None and not storing.done():
                await asyncio.wait([storing])
            await self.claims.release(job.chat_id)

    def _claim_lost(self, chat_id: str) -> None:
        self.stop(chat_id, "lost")

    async def _reply(self, job: ReplyJob) -> None:
        chat_id = job.chat_id
        # One trip to the writer: the reply's row, and what it answers from (the turns before
        # the question, the chat's scope).
        once = self.claims.shared
        started = await self.db.write(
            lambda s: chat_rows.start_reply(
                s, job.user_id, chat_id, job.message_id, 2 * HISTORY_TURNS, once=once
            )
        )
        if started is None:
            return  # the chat was deleted (or another server answered) before its turn came
        live = LiveReply(job.user_id, started.message)
        self.live[chat_id] = live
        if not self.claims.holds(chat_id):
            self.stop(chat_id, "lost")  # lost while the row was being stored: end it at once
        self.hub.to_chat(chat_id, self._typing_frame(chat_id, True), transient=True)
        # The reply appears at once, in the place history will give it, before any text.
        self.hub.to_chat(chat_id, self._message_frame(live, live.snapshot()))
        live.last_sent = time.monotonic()
        status: MessageStatus = "complete"
        answer: Answer | None = None
        failure = ""
        try:
            turns = [Turn(role, content) for role, content in started.history if content]
            question = Question(
                job.user_id, chat_id, job.text, turns[-HISTORY_TURNS:], scope_of(started.chat)
            )
            answer = await self.assistant.answer(question)
            live.message["citations"] = answer.citations
            async for piece in answer.pieces:
                live.parts.append(piece)
                live.length += len(piece)
                self._schedule_flush(chat_id, live)
        except asyncio.CancelledError:
            status = "stopped" if live.end_reason == "stopped" else "error"
        except AssistantError as exc:
            log.warning("assistant failed in a reply: %s", exc)
            status, failure = "error", str(exc)
        except Exception as exc:
            # The provider failed: keep what it produced and say so, without internals.
            log.error("assistant failed in a reply: %s", type(exc).__name__)
            status, failure = "error", PROVIDER_FAILED
        finally:
            if answer is not None:
                # Ends the provider's stream now (a remote model sees its request end), not
                # when the generator is collected.
                await _close(answer.pieces)
            if live.flush_timer is not None:
                live.flush_timer.cancel()
            self.live.pop(chat_id, None)
            final = _final(live.snapshot(), status, answer, failure)
            self._ending[chat_id] = final
        try:
            await self._finish(chat_id, live, final)
        finally:
            self._ending.pop(chat_id, None)

    async def _finish(self, chat_id: str, live: LiveReply, final: Message) -> None:
        status = final["status"]
        if live.end_reason == "deleted":
            return
        citations: list[Citation] = final["citations"]
        storing = asyncio.ensure_future(
            self.db.write(
                lambda s: chat_rows.finish_assistant_message(
                    s, live.user_id, final["id"], final["content"], status, citations
                )
            )
        )
        self._storing[chat_id] = storing
        chat = await asyncio.shield(storing)
        if chat is None:
            return
        self._send_state(chat_id, live, final)
        self.hub.to_chat(chat_id, self._typing_frame(chat_id, False), transient=True)
        if self.chat_changed is not None:
            self.chat_changed(live.user_id, chat)

    def _schedule_flush(self, chat_id: str, live: LiveReply) -> None:
        if live.flush_timer is not None:
            return
        wait = live.last_sent + self.frame_interval - time.monotonic()
        if wait <= 0:
            self._flush(chat_id, live)
        else:
            loop = asyncio.get_running_loop()
            live.flush_timer = loop.call_later(wait, self._flush, chat_id, live)

    def _flush(self, chat_id: str, live: LiveReply) -> None:
        live.flush_timer = None
        if live.sent_length == live.length or self.live.get(chat_id) is not live:
            return
        self._send_state(chat_id, live, live.snapshot())
        live.last_sent = time.monotonic()

    def _send_state(self, chat_id: str, live: LiveReply, message: Message) -> None:
        """The reply as it stands: whole to full subscribers, only what is new to delta ones."""
        full: str | None = None
        delta: str | None = None
        for peer in tuple(self.hub.subscribers(chat_id)):
            if peer.stream_mode == "full":
                full = full or self._message_frame(live, message)
                peer.send(full)
                continue
            # The last delta (the reply no longer streaming) carries its status and citations.
            delta = delta or message_delta_frame(message, _unchanged(live, message))
            peer.send(delta)
        live.sent_length = len(message["content"])

    @staticmethod
    def _message_frame(live: LiveReply, message: Message) -> str:
        return message_frame(message, live.user_id, message["chat_id"])

    @staticmethod
    def _typing_frame(chat_id: str, is_typing: bool) -> str:
        return typing_frame("assistant", "assistant", chat_id, is_typing)


def _final(message: Message, status: MessageStatus, answer: Answer | None, failure: str) -> Message:
    """The reply as stored: its markers settled (when the provider asks for it), and the
    sentence saying what failed at its end."""
    content = message["content"]
    citations = message["citations"]
    if answer is not None and answer.settle_markers:
        content, citations = settle(content, answer.citations)
    if failure:
        content = f"{content.rstrip()}\n\n{failure}" if content.strip() else failure
    return {**message, "content": content, "citations": citations, "status": status}


def _unchanged(live: LiveReply, message: Message) -> int:
    """How much of what subscribers have is still the start of `message`: all of it while a
    reply grows; less once its markers are renumbered at the end."""
    if message["status"] == "streaming":
        return live.sent_length
    sent = "".join(live.parts)[: live.sent_length]
    content = message["content"]
    return next(
        (at for at, (a, b) in enumerate(zip(sent, content, strict=False)) if a != b), len(sent)
    )


async def _close(pieces: object) -> None:
    aclose = getattr(pieces, "aclose", None)  # async generators have it; any async iterator will do
    if aclose is not None:
        await aclose()


def scope_of(chat: Chat) -> Scope | None:
    scope = chat.get("scope")
    if not scope:
        return None
    ids = scope.get("document_ids")
    return Scope(scope.get("folder"), tuple(ids) if ids is not None else None)
