"""The provider interface every assistant implements."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..parts import Part
from ..protocol import Citation, Role

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

    async def close(self) -> None:  # optional hook: most providers hold nothing
        """Release connections or workers the provider holds."""
