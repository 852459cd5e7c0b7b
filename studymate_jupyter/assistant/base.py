"""The provider interface every assistant implements."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..parts import Part
from ..protocol import AssistantInfo, Citation, Role

if TYPE_CHECKING:
    from ..library.service import LibraryService
    from ..passages import Scope


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str


@dataclass(frozen=True)
class Question:
    """What a provider is asked: the user's text, who asks, and the chat's recent turns."""

    user_id: str
    chat_id: str
    text: str
    history: list[Turn] = field(default_factory=list)
    # The part of the library the chat draws on (None: all of it).
    scope: Scope | None = None


@dataclass
class Answer:
    """An answer in the making: the sources it draws on, and its text as it is produced.

    `citations[n - 1]` is the source a `[n]` marker in the text refers to.
    """

    pieces: AsyncIterator[str]
    citations: list[Citation] = field(default_factory=list)
    # True: the text's markers decide what is cited. When the reply ends, the citations kept
    # are those its markers name, in the order first cited, and the markers are renumbered
    # to match (markers.settle). Set it when the text comes from a model, which may cite a
    # passage twice, skip one, or name one that is not there.
    settle_markers: bool = False


class AssistantError(Exception):
    """A provider failed in a way it can explain: the message is one plain sentence a student
    may read, naming no URL, host, port or key. The reply ends `error` with it appended."""


class Assistant(Part):
    """A provider. `answer` may await (retrieval, a remote call) before the text starts.

    Every provider, built-in or not, is built as `cls(library=library, parent=app)`: keyword
    arguments only, `library` the LibraryService it may search, `parent` the StudyMate app.
    Settings beyond that are the provider's own traits (`x = Unicode(config=True, help=...)`),
    set as `c.ClassName.x`. `c.StudyMate.assistant` names it: "extractive", "openai", an
    entry point of the group `studymate.assistants`, or "package.module:Class".
    """

    #: The name `c.StudyMate.assistant` selects it by.
    name: str = ""

    def __init__(self, *, library: LibraryService, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.library = library

    @abstractmethod
    async def answer(self, question: Question) -> Answer:
        """Start answering; the returned Answer streams the text."""

    async def info(self) -> AssistantInfo:
        """What `GET studymate/api/assistant` shows: who answers and whether it can."""
        return {"name": self.name, "model": None, "ready": True, "detail": ""}

    async def close(self) -> None:  # optional hook: most providers hold nothing
        """Release connections or workers the provider holds."""
