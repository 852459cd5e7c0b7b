"""What a language model is sent: the passages numbered and labelled, the instructions, and as
much of the conversation as fits the context budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import markers

if TYPE_CHECKING:
    from ..passages import Hit
    from .base import Question

INSTRUCTIONS = (
    "You are StudyMate, a study assistant. Answer the student's question clearly and briefly."
)
SOURCES = (
    "Answer only from the numbered passages of the student's course material below. After "
    "each statement, cite the passage it comes from by its number in square brackets, such "
    "as [2]; cite only the numbers listed. If the passages do not answer the question, say "
    "so instead of answering from elsewhere."
)
NO_SOURCES = (
    "Nothing in the student's course material matches this question. Answer from general "
    "knowledge, briefly, and cite nothing."
)
#: The reply's first words when the library had nothing on the question.
WITHOUT_MATERIAL = (
    "Nothing in your library covers this, so this answer does not come from your course "
    "material.\n\n"
)
# Tokens are counted approximately: about four characters each in English text, plus a few
# for each message's role and framing.
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


@dataclass(frozen=True)
class Prompt:
    """The chat-completions `messages`, and how many earlier turns they carry."""

    messages: list[dict[str, str]]
    turns: int


def approx_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + TOKENS_PER_MESSAGE


def label(hit: Hit) -> str:
    """Where a passage is: `notes.pdf, page 3`, `pages 3–4`, or `algebra.md, section "Factors"`."""
    if hit.anchor and hit.section:
        return f'{hit.filename}, section "{hit.section}"'
    if hit.page_end > hit.page_start:
        return f"{hit.filename}, pages {hit.page_start}\u2013{hit.page_end}"
    return f"{hit.filename}, page {hit.page_start}"


def system_prompt(hits: list[Hit]) -> str:
    if not hits:
        return f"{INSTRUCTIONS}\n\n{NO_SOURCES}"
    passages = "\n\n".join(
        f"[{n}] ({label(hit)})\n{hit.text.strip()}" for n, hit in enumerate(hits, start=1)
    )
    return f"{INSTRUCTIONS}\n\n{SOURCES}\n\n{passages}"


def build(question: Question, hits: list[Hit], max_tokens: int) -> Prompt:
    """The system message with every passage (never cut), then the newest earlier turns that
    fit in `max_tokens` beside it and the question, then the question."""
    system = {"role": "system", "content": system_prompt(hits)}
    asked = {"role": "user", "content": question.text}
    budget = max_tokens - approx_tokens(system["content"]) - approx_tokens(asked["content"])
    earlier: list[dict[str, str]] = []
    for turn in reversed(question.history):
        # An earlier answer's markers named the passages sent with it, not these.
        content = markers.strip(turn.content) if turn.role == "assistant" else turn.content
        cost = approx_tokens(content)
        if cost > budget:
            break  # older turns without this one would read as a different conversation
        budget -= cost
        earlier.append({"role": turn.role, "content": content})
    earlier.reverse()
    return Prompt([system, *earlier, asked], len(earlier))
