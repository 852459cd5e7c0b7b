"""The records both directions carry: messages, citations, chats, documents, passages.

TypedDicts (from ``typing_extensions``, which pydantic can validate on every Python we
support), so a client validates what it reads against the same declaration the server
writes from.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

Role = Literal["user", "assistant"]
MessageStatus = Literal["streaming", "complete", "stopped", "error"]
DocumentStatus = Literal["queued", "indexing", "ready", "failed"]
# (extension) The vector step, after the text is indexed: pending while vectors are computed
# in the background (the document is already searchable by its words), ready once done, off
# when the retriever uses no vectors, failed if they could not be computed.
VectorStatus = Literal["pending", "ready", "off", "failed"]
SourceStatus = Literal["current", "changed", "removed"]
# (extension) Where a document lives: the user's own library, or the course library that
# instructors fill and everyone on the same database reads.
LibraryName = Literal["personal", "course"]
# (extension) What a user thinks of an answer.
Rating = Literal["up", "down"]
#: (extension) The emoji a message may be reacted with, in the order pickers show them.
REACTION_EMOJI = ("👍", "👎", "❤️", "🎉", "😄", "😕", "🤔", "💡", "👀", "✅")
#: (extension) How many different emoji one user may put on one message.
MAX_REACTIONS = 5
#: (extension) The longest note a feedback may carry, in characters.
MAX_FEEDBACK_NOTE = 1000


class Citation(TypedDict):
    """CitationResponse: a passage of the library that a reply cites."""

    document_id: str
    chunk_id: str
    filename: str
    page_start: int
    page_end: int
    score: float
    anchor: NotRequired[str | None]
    # (extension) the document's path relative to the server root, to open it at the page.
    path: NotRequired[str]
    # (extension) the title of the innermost section the passage lies in, when the document
    # has sections. A citation with an anchor and a section (Markdown, notebooks) is named by
    # its section ("notes.md § Factors"); a PDF's by its pages.
    section: NotRequired[str | None]
    # (extension) the library the document is in (absent in replies stored before it).
    library: NotRequired[LibraryName]


class Feedback(TypedDict):
    """(extension) A user's rating of an assistant message, with an optional note."""

    rating: Rating
    note: str | None


class Message(TypedDict):
    id: str
    role: Role
    content: str
    citations: list[Citation]
    timestamp: str
    chat_id: str
    status: MessageStatus
    # (extension) on an assistant message: the id of the user message it answers.
    reply_to: NotRequired[str]
    # (extension) as read from the store (history pages, REST, export): the users who put
    # each emoji on it, and the reader's own feedback. A live frame (an echo, a streaming
    # reply) leaves them out: a client keeps what it has.
    reactions: NotRequired[dict[str, list[str]]]
    feedback: NotRequired[Feedback | None]


class ChatScope(TypedDict, total=False):
    """(extension) The part of the library a chat draws on: a folder, chosen documents, or both."""

    folder: str | None
    document_ids: list[str] | None


class Chat(TypedDict):
    id: str
    title: str
    created_at: str
    updated_at: str
    message_count: int
    scope: ChatScope | None
    # (extension) replies finished after the newest message the user has read here, and
    # that message's id (None: nothing read yet).
    unread: int
    read_up_to: str | None


class Document(TypedDict):
    id: str
    path: str
    filename: str
    kind: str
    status: DocumentStatus
    error: str | None
    progress: float
    pages: int
    chunks: int
    size: int
    sha256: str
    created_at: str
    updated_at: str
    # (extension) the vector step and its progress (0..1); see VectorStatus.
    vectors: VectorStatus
    vectors_progress: float
    # (extension) see LibraryName.
    library: LibraryName


class SearchResult(Citation):
    """One hit of ``GET studymate/api/search``: a citation plus the matching text."""

    snippet: str


class Passage(TypedDict):
    """A cited chunk as a preview shows it (GET documents/{id}/chunks/{chunk_id})."""

    document_id: str
    chunk_id: str
    filename: str
    path: str
    page_start: int
    page_end: int
    anchor: str | None
    heading: str
    # (extension) as Citation.section.
    section: str | None
    text: str
    # current: the document still holds this passage; changed: the file was re-indexed with
    # other content since; removed: the document left the library.
    source: SourceStatus
    # (extension) see LibraryName.
    library: LibraryName


class Me(TypedDict):
    """``GET studymate/api/me``."""

    user_id: str
    display_name: str
    # (extension) whether this user may add, re-index and remove course documents.
    instructor: NotRequired[bool]


class RetrievalInfo(TypedDict):
    """(extension) ``GET studymate/api/retrieval``: how the library ranks passages."""

    # c.StudyMate.retriever's choice: "hybrid", "bm25" or a custom retriever's name.
    name: str
    # The signals it fuses, e.g. ["bm25", "minilm", "wordllama"].
    signals: list[str]
    # Set when a signal is missing (the MiniLM weights, say): what is lost and how to add it.
    notice: str | None


class AssistantInfo(TypedDict):
    """(extension) ``GET studymate/api/assistant``: who answers, and whether it can now."""

    # c.StudyMate.assistant's choice: "extractive", "openai" or an installed provider's name.
    name: str
    # The language model that answers; None for an assistant that uses none (extractive).
    model: str | None
    # False when the assistant cannot answer now (its model server cannot be reached, say).
    ready: bool
    # One plain sentence: what answers, or why it cannot (never a URL, host or key).
    detail: str


class MessageSearchResult(TypedDict):
    """(extension) One hit of ``GET studymate/api/messages/search``."""

    chat_id: str
    chat_title: str
    message_id: str
    role: Role
    # Plain text around the match (no HTML: a client shows it as text).
    snippet: str
    # [start, end) character ranges of the matched words in `snippet`, to highlight.
    marks: list[tuple[int, int]]
    timestamp: str


class MessageSearchPage(TypedDict):
    results: list[MessageSearchResult]
    has_more: bool


class MessagesPage(TypedDict):
    """One page of a chat's history, oldest first (``GET chats/{id}/messages``)."""

    messages: list[Message]
    has_more: bool


TITLE_LENGTH = 60


def title_from(content: str) -> str:
    """A chat's first title: the first line of its first message, shortened."""
    line = " ".join(content.strip().split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"
