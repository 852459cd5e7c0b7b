"""An assistant that answers at once with one short piece, so replies cost as little as they can.

Selected in the server under test with `--StudyMate.assistant=bench.assistant:InstantAssistant`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from studymate_jupyter.assistant import Answer, Assistant, Question


async def _one_piece() -> AsyncIterator[str]:
    yield "ok"


class InstantAssistant(Assistant):
    """Replies "ok" immediately: the reply still stores and streams, but waits on nothing."""

    name = "bench-instant"

    async def answer(self, question: Question) -> Answer:
        return Answer(pieces=_one_piece())
