"""Parts a user might write, selected by "module:Class" (this folder is on sys.path in tests).

`--StudyMate.assistant=custom_parts:Librarian` answers with the best passage's place, so a
reply shows that the assistant was built with the library and read its own configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from traitlets import Unicode

from studymate_jupyter.assistant import Answer, Assistant, Question
from studymate_jupyter.passages import citation_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


async def _at_once(text: str) -> AsyncIterator[str]:
    yield text


class Librarian(Assistant):
    """Names the file and section of the passage that answers best, and cites it."""

    name = "librarian"
    opening = Unicode("The best passage is in", config=True, help="How a reply starts.")

    async def answer(self, question: Question) -> Answer:
        hits = await self.library.search(question.user_id, question.text, 1, question.scope)
        if not hits:
            return Answer(pieces=_at_once(f"{self.opening} nothing I have."))
        best = hits[0]
        text = f"{self.opening} {best.filename}, section {best.page_start} [1]."
        return Answer(pieces=_at_once(text), citations=[citation_of(best)])


class Unfinished(Assistant):
    """Forgets to write `answer`."""
