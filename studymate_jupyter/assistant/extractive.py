"""The offline default: answers made only of sentences from the user's own library."""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..library.query import query_terms
from ..passages import citation_of
from .base import Answer, Assistant, Question
from .sentences import Sentence, sentences_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ..passages import Hit
    from ..protocol import AssistantInfo, Citation

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
# Passages the answer draws on, best first, and how many sentences it quotes from them.
PASSAGES = 6
MIN_SENTENCES = 2
MAX_SENTENCES = 5
# How much a passage's rank counts beside how well a sentence matches: the best passage adds
# this much, the second half of it, and so on (a full match of the question counts 1).
RANK_WEIGHT = 0.3
# A sentence answering less than this share of what the best one answers is about
# something else (it is quoted only to reach MIN_SENTENCES).
RELATIVE_CUTOFF = 0.5
# Sentences sharing this share of the shorter one's words say the same thing (overlapping
# chunks repeat text, sometimes cut).
NEAR_DUPLICATE = 0.8
# A follow-up this short ("and for factors?") leans on the question before it.
FOLLOW_UP_TERMS = 3
LEAD = "From your course material:"
DETAIL = "Answers offline, with sentences quoted from the passages of your library."


@dataclass(frozen=True)
class Candidate:
    """A sentence the answer may quote: its passage's rank (0 is best) and place in it."""

    rank: int
    position: int
    sentence: Sentence
    stems: frozenset[str]
    words: frozenset[str]


async def stream_words(text: str) -> AsyncIterator[str]:
    """Yield `text` a word at a time, letting the event loop run between pieces."""
    for piece in re.findall(r"\S+\s*", text):
        yield piece
        await asyncio.sleep(0)


def _stem(word: str) -> str:
    """A crude stem that makes "multiply", "multiplies" and "multiplied" (or "store",
    "stores", "stored", "storing") one term."""
    if len(word) <= 3:
        return word
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    else:
        if re.search(r"(?:ss|ch|sh|x|z)es$", word):
            word = word[:-2]
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())}


def search_text(question: Question) -> str:
    """The question, with the previous one prepended when it reads as a follow-up."""
    if len(query_terms(question.text)) <= FOLLOW_UP_TERMS:
        earlier = [t.content for t in question.history if t.role == "user"]
        if earlier:
            return f"{earlier[-1]} {question.text}"
    return question.text


def candidates(hits: list[Hit]) -> list[Candidate]:
    """Every clean sentence of the passages, near-duplicates kept once (the fuller one)."""
    kept: list[Candidate] = []
    for rank, hit in enumerate(hits):
        for position, sentence in enumerate(sentences_of(hit)):
            text = sentence.words()
            found = Candidate(
                rank,
                position,
                sentence,
                frozenset(_stems(text)),
                frozenset(re.findall(r"[a-z0-9]+", text.lower())),
            )
            twin = next((i for i, other in enumerate(kept) if _same(found, other)), None)
            if twin is None:
                kept.append(found)
            elif _fuller(found, kept[twin]):
                kept[twin] = found
    return kept


def _same(one: Candidate, other: Candidate) -> bool:
    shorter = min(len(one.words), len(other.words))
    return shorter > 0 and len(one.words & other.words) >= NEAR_DUPLICATE * shorter


def _fuller(one: Candidate, other: Candidate) -> bool:
    """Whether `one` says more than its twin: more words, or the same with its code."""
    return (len(one.words), len(one.sentence.code)) > (len(other.words), len(other.sentence.code))


def select(question: str, found: list[Candidate]) -> list[Candidate]:
    """The sentences that answer best, in answer order: by passage, best passage first, and
    in text order within a passage.

    A sentence's score is the share of the question's terms it has, each weighted by its
    rarity among the candidates (a term every sentence has tells them apart least), plus
    its passage's rank.
    """
    wanted = {_stem(t) for t in query_terms(question)}
    df = {term: sum(term in c.stems for c in found) for term in wanted}
    idf = {term: math.log(1 + len(found) / n) for term, n in df.items() if n}
    total = sum(idf.values())
    if not total:
        return []
    # The share of the question a sentence answers, and that plus its passage's rank.
    matches: dict[int, float] = {}
    scores: dict[int, float] = {}
    for c in found:
        if wanted & c.stems:
            matches[id(c)] = sum(idf.get(t, 0.0) for t in wanted & c.stems) / total
            scores[id(c)] = matches[id(c)] + RANK_WEIGHT / (1 + c.rank)
    ranked = sorted(
        (c for c in found if id(c) in scores), key=lambda c: (-scores[id(c)], c.rank, c.position)
    )
    enough = RELATIVE_CUTOFF * max(matches.values())
    chosen = [c for c in ranked if matches[id(c)] >= enough][:MAX_SENTENCES]
    # The retriever ranks passages by meaning as well as words; a rare question word found
    # in lower passages must not crowd out its first: a sentence of that one is always quoted.
    best_rank = 0
    leads = [c for c in ranked if c.rank == best_rank]
    forced = bool(leads) and all(c.rank != best_rank for c in chosen)
    if forced:
        lead = leads[0]
        chosen = [lead, *chosen[: MAX_SENTENCES - 1]]
    chosen += [c for c in ranked if c not in chosen][: max(0, MIN_SENTENCES - len(chosen))]
    if len(chosen) < MIN_SENTENCES:
        # One sentence matches: the one after it (or before) in its section gives context; a
        # sentence from another section would not, so then the answer is that one sentence.
        top = chosen[0]
        nearby = [
            c
            for c in found
            if c.rank == top.rank and c.sentence.section == top.sentence.section and c is not top
        ]
        nearby.sort(key=lambda c: (c.position < top.position, abs(c.position - top.position)))
        chosen += nearby[:1]
    group_score: dict[int, float] = {}
    for c in chosen:
        group_score[c.rank] = max(group_score.get(c.rank, 0.0), scores.get(id(c), 0.0))
    if forced:
        group_score[best_rank] = math.inf  # it answers by meaning: it leads
    return sorted(chosen, key=lambda c: (-group_score[c.rank], c.rank, c.position))


def compose(question: str, hits: list[Hit]) -> tuple[str, list[Citation]]:
    """A Markdown list of the best sentences, each followed by `[n]` for citations[n - 1];
    passages are numbered by first use and only those quoted are cited."""
    chosen = select(question, candidates(hits))
    if not chosen:
        return NOTHING_FOUND, []
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    items: list[str] = []
    for c in chosen:
        if c.rank not in numbers:
            citations.append(citation_of(hits[c.rank]))
            numbers[c.rank] = len(citations)
        items.append(_item(c.sentence, numbers[c.rank]))
    return f"{LEAD}\n\n" + "\n".join(items) + "\n", citations


def _item(sentence: Sentence, number: int) -> str:
    """One list item: the sentence, its code as a fenced block, then its marker, which
    never stands inside code."""
    if not sentence.code:
        return f"- {sentence.text} [{number}]"
    longest = max((len(run) for line in sentence.code for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    language = sentence.language if re.fullmatch(r"[\w+-]+", sentence.language) else ""
    # Indented under the item's text, so the block belongs to the item.
    block = [f"{fence}{language}", *sentence.code, fence]
    body = "\n".join(f"  {line}" if line else "" for line in block)
    return f"- {sentence.text}\n{body}\n  [{number}]"


class ExtractiveAssistant(Assistant):
    """Composes replies from retrieved passages; says so plainly when there is nothing."""

    name = "extractive"

    async def info(self) -> AssistantInfo:
        return {"name": self.name, "model": None, "ready": True, "detail": DETAIL}

    async def answer(self, question: Question) -> Answer:
        if not await self.library.has_documents(question.user_id):
            return Answer(pieces=stream_words(EMPTY_LIBRARY))
        query = search_text(question)
        hits = await self.library.search(question.user_id, query, PASSAGES, question.scope)
        text, citations = compose(query, hits)
        return Answer(pieces=stream_words(text), citations=citations)
