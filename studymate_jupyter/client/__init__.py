"""An asyncio client for StudyMate's chat WebSocket and REST API.

``StudyMateClient`` speaks the public protocol (docs/protocol.md): its REST half is
``StudyMateApi``, over HTTP (``RestClient``) or in-process (``client.local``); ``ClientThread``
runs one on a background loop for synchronous code; ``studymate chat`` is its terminal front
end.
"""

from __future__ import annotations

from ..protocol import Chat, Citation, Me, Message, MessagesPage
from .api import StudyMateApi
from .backoff import Backoff
from .client import StudyMateClient
from .discovery import ServerInfo, ServerNotFound, discover_running, resolve_server
from .errors import StudyMateError
from .formatting import format_citation, format_citations, page_range
from .outbox import Outbox, Outgoing
from .reply import Reply
from .rest import RestClient
from .signals import Signal
from .store import MessageStore, pair_replies
from .thread import ClientThread
from .types import ConnectionState

__all__ = [
    "Backoff",
    "Chat",
    "Citation",
    "ClientThread",
    "ConnectionState",
    "Me",
    "Message",
    "MessageStore",
    "MessagesPage",
    "Outbox",
    "Outgoing",
    "Reply",
    "RestClient",
    "ServerInfo",
    "ServerNotFound",
    "Signal",
    "StudyMateApi",
    "StudyMateClient",
    "StudyMateError",
    "discover_running",
    "format_citation",
    "format_citations",
    "page_range",
    "pair_replies",
    "resolve_server",
]
