"""Turn a person's question into an FTS5 MATCH expression that cannot be misread as syntax."""

from __future__ import annotations

import re

# Words that match nearly every passage: keeping them only adds noise to bm25.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't
    do does doesn't doing don't down during each either else etc even ever every few for
    from further get gets getting give given go going got had hadn't has hasn't have haven't
    having he her here hers herself him himself his how however i i'd i'll i'm i've if in
    into is isn't it it's its itself just let let's like may me might mine more most much
    must mustn't my myself need needs no nor not of off on once one only or other ought our
    ours ourselves out over own please same shall shan't she should shouldn't so some such
    than that that's the their theirs them themselves then there there's these they they're
    this those through thus to too under until up upon us use used using very via was wasn't
    we we're were weren't what what's when where where's whether which while who who's whom
    whose why will with within without won't would wouldn't yes yet you you're your yours
    yourself yourselves thing things way ways want wants wanted tell explain show know mean
    means possible
    """.split()  # noqa: SIM905 -- a word list reads better as prose than as 200 lines
)

# Bound the expression: a pasted essay should not become a thousand-term OR.
MAX_TERMS = 32

# Letters and digits, with inner apostrophes ("don't"); everything else separates terms, so
# quotes, colons, parentheses, stars, carets and minus signs can never reach FTS5 as syntax.
_TERM = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def query_terms(text: str, *, max_terms: int = MAX_TERMS) -> list[str]:
    """The distinct, lower-cased, non-stop-word terms of `text`, in order of appearance."""
    terms: list[str] = []
    seen: set[str] = set()
    for match in _TERM.finditer(text.lower()):
        term = match.group(0)
        if term in STOP_WORDS or term in seen:
            continue
        seen.add(term)
        terms.append(term)
        if len(terms) >= max_terms:
            break
    return terms


def quote_term(term: str) -> str:
    """An FTS5 string literal: double quotes inside are doubled."""
    return '"' + term.replace('"', '""') + '"'


def build_match_query(text: str, *, max_terms: int = MAX_TERMS) -> str | None:
    """Quoted terms joined by OR (bm25 ranks passages with more of them first); None if empty.

    `AND`, `OR`, `NOT` and `NEAR` in the question are plain words here: quoted, they are
    strings to FTS5, not operators.
    """
    terms = query_terms(text, max_terms=max_terms)
    if not terms:
        return None
    return " OR ".join(quote_term(term) for term in terms)
