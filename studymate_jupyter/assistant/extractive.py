"""The offline default: answers made only of sentences from the user's own library."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from ..library.query import query_terms
from ..passages import citation_of
from .base import Answer, Assistant, Question

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ..passages import Hit
    from ..protocol import Citation

EMPTY_LIBRARY = (
    "There are no documents in your StudyMate library yet, so I have nothing to answer from. "
    "Add your course material (PDF, Markdown or notebooks) to the library and ask again: "
    "every answer I give is made of passages from those documents, with the page they come "
    "from."
)
NOTHING_FOUND = (
    "I could not find anything about that in your library. Try asking with other words, or "
    "add the material that covers it."
)
PASSAGES = 4
SENTENCES_PER_PASSAGE = 2
MAX_SENTENCE = 400
# A follow-up this short ("and for factors?") leans on the question before it.
FOLLOW_UP_TERMS = 3

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'`])")


async def stream_words(text: str) -> AsyncIterator[str]:
    """Yield `text` a word at a time, letting the event loop run between pieces."""
    for piece in re.findall(r"\S+\s*", text):
        yield piece
        await asyncio.sleep(0)


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())}


def search_text(question: Question) -> str:
    """The question, with the previous one prepended when it reads as a follow-up."""
    if len(query_terms(question.text)) <= FOLLOW_UP_TERMS:
        earlier = [t.content for t in question.history if t.role == "user"]
        if earlier:
            return f"{earlier[-1]} {question.text}"
    return question.text


def best_sentences(passage: str, wanted: set[str], count: int) -> list[str]:
    """The passage's sentences that share the most words with the question, in page order."""
    sentences = [s.strip() for s in _SENTENCE_END.split(" ".join(passage.split())) if s.strip()]
    scored = sorted(
        ((len(_stems(s) & wanted), -i, s) for i, s in enumerate(sentences)),
        reverse=True,
    )
    chosen = [(-neg_i, s) for overlap, neg_i, s in scored[:count] if overlap > 0]
    return [_shorten(s) for _, s in sorted(chosen)]


def _shorten(sentence: str) -> str:
    if len(sentence) <= MAX_SENTENCE:
        return sentence
    return sentence[:MAX_SENTENCE].rsplit(" ", 1)[0] + " …"


def compose(question: str, hits: list[Hit]) -> tuple[str, list[Citation]]:
    """Markdown made of the best sentences, each followed by `[n]` for citations[n - 1]."""
    wanted = {_stem(t) for t in query_terms(question)}
    lines: list[str] = []
    citations: list[Citation] = []
    for hit in hits[:PASSAGES]:
        sentences = best_sentences(hit.text, wanted, SENTENCES_PER_PASSAGE)
        if not sentences:
            continue
        citations.append(citation_of(hit))
        lines.append(f"- {' '.join(sentences)} [{len(citations)}]")
    if not lines:
        return NOTHING_FOUND, []
    return "From your course material:\n\n" + "\n".join(lines) + "\n", citations


class ExtractiveAssistant(Assistant):
    """Composes replies from retrieved passages; says so plainly when there is nothing."""

    name = "extractive"

    async def answer(self, question: Question) -> Answer:
        if not await self.library.has_documents(question.user_id):
            return Answer(pieces=stream_words(EMPTY_LIBRARY))
        query = search_text(question)
        hits = await self.library.search(question.user_id, query, PASSAGES + 2, question.scope)
        text, citations = compose(query, hits)
        return Answer(pieces=stream_words(text), citations=citations)
