"""The `[n]` markers of a model's answer, made to agree with the citations stored beside it.

A model cites passages out of order (`[3] … [1]`), twice, or by numbers it was never given
(`[9]`). When the reply ends, the citations kept are the passages the text cites, in the order
first cited, and each marker is renumbered to match; a marker naming no passage is removed.
Code is left alone: `a[1]` in a code block is an index, not a citation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

# `[2]` or `[1, 3]`, not a Markdown link's text (`[1](…)`); with the spaces before it, which go
# when the marker does.
MARKER = re.compile(r"(?P<space>[ \t]*)\[(?P<numbers>\d{1,4}(?:[ \t]*,[ \t]*\d{1,4})*)\](?!\()")
# A fenced block (to its closing fence, or the end of a text still streaming) or a code span.
CODE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*(?P=fence)[ \t]*$|\Z)"
    r"|(?P<ticks>`+)(?!`).*?(?<!`)(?P=ticks)(?!`)",
    re.MULTILINE | re.DOTALL,
)

T = TypeVar("T")


def settle(text: str, sources: list[T]) -> tuple[str, list[T]]:
    """`text` with its markers renumbered in order of first use, and the sources they name.

    `sources[n - 1]` is what `[n]` names in `text`. A marker that names no source is
    removed; a text that cites nothing keeps no sources.
    """
    order: list[int] = []

    def collect(match: re.Match[str]) -> str:
        for n in _numbers(match, len(sources)):
            if n not in order:
                order.append(n)
        return match.group(0)

    _outside_code(text, collect)
    renumbered = {old: new for new, old in enumerate(order, start=1)}

    def rewrite(match: re.Match[str]) -> str:
        numbers = list(dict.fromkeys(renumbered[n] for n in _numbers(match, len(sources))))
        if not numbers:
            return ""
        return f"{match['space']}[{', '.join(map(str, numbers))}]"

    return _outside_code(text, rewrite), [sources[n - 1] for n in order]


def strip(text: str) -> str:
    """`text` without its markers (an earlier answer's, which name passages no longer sent)."""
    return _outside_code(text, lambda match: "")


def _numbers(match: re.Match[str], count: int) -> list[int]:
    numbers = (int(n) for n in match["numbers"].split(","))
    return [n for n in numbers if 1 <= n <= count]


def _outside_code(text: str, replace: Callable[[re.Match[str]], str]) -> str:
    """`text` with MARKER matches replaced, in order, everywhere but inside code."""
    out: list[str] = []
    at = 0
    for code in CODE.finditer(text):
        out.append(MARKER.sub(replace, text[at : code.start()]))
        out.append(code.group(0))
        at = code.end()
    out.append(MARKER.sub(replace, text[at:]))
    return "".join(out)
