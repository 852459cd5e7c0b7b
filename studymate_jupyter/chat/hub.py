"""Connections and subscriptions, in memory: who hears which frame."""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from ..protocol import StreamMode


class Send(Protocol):
    def __call__(self, frame: str, transient: bool = False) -> None:
        """Queue a frame for the client; never blocks and never raises on a closed socket.
        A transient frame (typing) is one the client can miss: a transport may drop it for a
        client that is behind on reading."""


class Peer(Protocol):
    """One open client connection, as the chat service sees it."""

    user_id: str
    stream_mode: StreamMode
    send: Send


class Relay(Protocol):
    """Carries frames to the other servers sharing the database (chat/events.py)."""

    def publish(self, user_id: str | None, frame: str) -> None:
        """To that user's connections there, or with None to every connection there."""


class Hub:
    """Tracks every connection by user and by the chats it follows."""

    def __init__(self) -> None:
        #: The other servers' way in, while one listens (PostgreSQL); None: this process alone.
        self.relay: Relay | None = None
        self._by_user: defaultdict[str, set[Peer]] = defaultdict(set)
        self._by_chat: defaultdict[str, set[Peer]] = defaultdict(set)
        self._chats_of: defaultdict[Peer, set[str]] = defaultdict(set)

    def add(self, peer: Peer) -> None:
        self._by_user[peer.user_id].add(peer)

    def remove(self, peer: Peer) -> None:
        self._discard(self._by_user, peer.user_id, peer)
        for chat_id in self._chats_of.pop(peer, set()):
            self._discard(self._by_chat, chat_id, peer)

    def subscribe(self, peer: Peer, chat_id: str) -> bool:
        """Follow a chat; True when the peer was not following it yet."""
        if chat_id in self._chats_of[peer]:
            return False
        self._chats_of[peer].add(chat_id)
        self._by_chat[chat_id].add(peer)
        return True

    def unsubscribe(self, peer: Peer, chat_id: str) -> None:
        self._chats_of[peer].discard(chat_id)
        self._discard(self._by_chat, chat_id, peer)

    def is_subscribed(self, peer: Peer, chat_id: str) -> bool:
        return chat_id in self._chats_of.get(peer, ())

    def drop_chat(self, chat_id: str) -> None:
        for peer in self._by_chat.pop(chat_id, set()):
            self._chats_of[peer].discard(chat_id)

    def subscribers(self, chat_id: str) -> set[Peer]:
        return self._by_chat.get(chat_id, set())

    def to_chat(
        self, chat_id: str, frame: str, exclude: Peer | None = None, transient: bool = False
    ) -> None:
        for peer in tuple(self._by_chat.get(chat_id, ())):
            if peer is not exclude:
                peer.send(frame, transient)

    def to_user(self, user_id: str, frame: str, exclude: Peer | None = None) -> None:
        """To every connection of the user, here and on the other servers (`exclude` is one
        of this process's)."""
        self.deliver(user_id, frame, exclude)
        if self.relay is not None:
            self.relay.publish(user_id, frame)

    def to_everyone(self, frame: str) -> None:
        """To every connection of every user, here and on the other servers."""
        self.deliver(None, frame)
        if self.relay is not None:
            self.relay.publish(None, frame)

    def deliver(self, user_id: str | None, frame: str, exclude: Peer | None = None) -> None:
        """To this process's connections only: the user's, or with None everyone's."""
        if user_id is None:
            peers = [peer for user_peers in self._by_user.values() for peer in user_peers]
        else:
            peers = list(self._by_user.get(user_id, ()))
        for peer in peers:
            if peer is not exclude:
                peer.send(frame)

    @staticmethod
    def _discard(index: defaultdict[str, set[Peer]], key: str, peer: Peer) -> None:
        peers = index.get(key)
        if peers is not None:
            peers.discard(peer)
            if not peers:
                del index[key]
