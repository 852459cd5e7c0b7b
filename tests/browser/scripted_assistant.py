"""A slow, scripted assistant for the browser tests: the reply streams long enough to be seen.

Selected with `--StudyMate.assistant=scripted_assistant:ScriptedAssistant` (this folder on
PYTHONPATH). It cites a fixed page of `lecture.pdf` so the chips can be checked without a
library.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from studymate_jupyter.assistant.base import Answer, Assistant, Question

REPLY = (
    "Gradient descent takes small steps **downhill** along the negative gradient [1].\n\n"
    "```python\nstep = learning_rate * gradient\n```\n\n"
    "Each step moves the parameters a little closer to a minimum of the loss."
)
#: Seconds between streamed words: the whole reply takes about two seconds.
DELAY = 0.08


async def slowly(text: str) -> AsyncIterator[str]:
    words = text.split(" ")
    for i, word in enumerate(words):
        yield word if i == len(words) - 1 else word + " "
        await asyncio.sleep(DELAY)


class ScriptedAssistant(Assistant):
    name = "scripted"
    #: Questions containing FAIL_ONCE fail the first time only, so that Retry can succeed.
    FAIL_ONCE = "fail once"
    failed = False

    async def answer(self, question: Question) -> Answer:
        if self.FAIL_ONCE in question.text and not ScriptedAssistant.failed:
            ScriptedAssistant.failed = True
            raise RuntimeError("the scripted provider fails as asked")
        return Answer(
            pieces=slowly(REPLY),
            citations=[
                {
                    "document_id": "doc-lecture",
                    "chunk_id": "chunk-7",
                    "filename": "lecture.pdf",
                    "page_start": 3,
                    "page_end": 4,
                    "score": 0.8125,
                    "path": "lecture.pdf",
                }
            ],
        )
