"""A retrieved passage as the sentences an extractive answer may quote.

Passages are word windows over parsed text: they keep the parser's line breaks, start and end
mid-sentence, carry their section headings as lines of text, and hold code, console output,
page numbers and index lines beside the prose. `sentences_of` keeps only whole prose
sentences, with the code that follows a sentence in the passage attached to it, so the answer
can show that code as code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..passages import HEADING_SEPARATOR

if TYPE_CHECKING:
    from ..passages import Hit

# A longer sentence is cut at a word: it is usually a table or a run-on line, not prose.
MAX_SENTENCE = 400
# Code shown under a sentence: enough for an example and its output, not a whole listing.
MAX_CODE_LINES = 12
# A line this short without a full stop, standing alone, is a heading or a running head.
HEADING_WORDS = 8
MIN_WORDS = 4


@dataclass(frozen=True)
class Sentence:
    """A prose sentence as Markdown (code inside it in backticks), and the code shown after
    it, if any, as plain lines."""

    text: str
    code: tuple[str, ...] = ()
    language: str = ""
    # Which section of the passage it is in: headings seen before it.
    section: int = 0

    def words(self) -> str:
        """All its text, prose and code, for matching against a question."""
        return " ".join((self.text, *self.code))


_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^`\s]*)")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_ATX = re.compile(r"^\s{0,3}#{1,6}\s")
# Prompts of R, Python, shells and notebooks, and R's console output (`[1] 1 2 3`).
_PROMPT = re.compile(r"^(?:>>>|\.\.\.|R>|\$|In \[\d*\]:|Out\[\d+\]:)\s")
_R_PROMPT = re.compile(r"^>\s?\S")
_OUTPUT = re.compile(r"^\[\[?\d+\]\]?(?:\s|$)|^#>")
# How code lines begin; a wrapped line of prose may begin with "for" or "if", so a keyword
# counts only with the bracket or colon its statement has.
_CODE_START = re.compile(
    r"^(?:import \w|from [\w.]+ import |def \w+\(|class \w+[(:]|(?:for|if|while)\s*\(|"
    r"(?:library|require|print|function|lambda)\s*\(|return(?:\s*\(|\s+\w+$|$)|"
    r"(?:var|let|const) \w+ =|(?:for|if|elif|else|while|with|try|except)\b.*:$)"
)
_CODE_OPERATOR = re.compile(r"<<?-|==|!=|:=|\+=|-=|&&|\|\||%>%|%in%|[{}]\s*$")
_ASSIGNMENT = re.compile(r"^[\w.$\[\]\"']+\s*=\s*[^=\s]")
_CODE_CHARS = frozenset("()[]{}<>=;$#\"'`_+*/\\|&^%~@")
_JUNK_LINE = re.compile(
    r"^(?:\d{1,4}|[ivxlcdm]{1,6}|page \d+(?: of \d+)?|[\W_]+)$"  # page numbers, rules
    r"|(?:\.\s*){4,}|…{2,}|_{3,}",  # dot leaders of tables of contents and indexes
    re.IGNORECASE,
)
# Sentence ends: the punctuation, closing quotes or brackets, then space and a capital.
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+(?=[A-Z0-9\"'(`*_\[])")
_ABBREVIATIONS = frozenset(
    {
        *("e.g", "i.e", "etc", "vs", "cf", "al", "fig", "figs", "eq", "eqs", "no", "nos"),
        *("dr", "mr", "mrs", "ms", "prof", "sec", "ch", "p", "pp", "approx", "ref", "resp"),
    }
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_TERMINAL = re.compile(r"[.!?][\"')\]*_]*$")
# Words that give a fragment the shape of a sentence.
_VERB_ISH = re.compile(
    r"\b(?:is|are|was|were|be|been|being|has|have|had|can|could|will|would|may|might|must|"
    r"should|shall|does|do|did|gives?|makes?|means?|returns?|takes?|uses?|works?|lets?)\b"
    r"|\b\w{3,}(?:s|ed|es|ing)\b",
    re.IGNORECASE,
)
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# A name may hold dots (read.table) but does not end with one (a full stop).
_IDENT = r"[A-Za-z_.](?:[\w.$]*[\w$])?"
_CALL = _IDENT + r"\((?:[^()\n]|\([^()\n]*\))*\)"
# Code inside prose, shown in backticks: assignments, calls, indexing (`x[2]`), `df$col`, and
# any bracketed number, which the clients would otherwise read as a citation marker.
_CODE_IN_PROSE = re.compile(
    rf"{_IDENT}(?:\[[^\]\n]*\])*\s*<<?-\s*(?:{_CALL}|[^\s,;]+)"
    rf"|{_CALL}"
    rf"|{_IDENT}(?:\[[^\]\n]*\])+"
    rf"|{_IDENT}\${_IDENT}"
    r"|\[\[?\d[\d,:\s-]*\]\]?"
)
_PLURAL = re.compile(r"\w+\((?:s|es)\)")


def titles_of(heading: str) -> list[str]:
    """The section titles of a heading path, longest first (so a title that begins another
    is tried after it)."""
    titles = {t.strip() for t in heading.split(HEADING_SEPARATOR) if t.strip()}
    return sorted(titles, key=len, reverse=True)


def sentences_of(hit: Hit) -> list[Sentence]:
    """The passage's whole prose sentences in text order, code attached; no headings or junk."""
    titles = titles_of(hit.heading)
    lines = hit.text.split("\n")
    kinds, languages = _classify(lines, {_norm(t) for t in titles})
    first = next((kind for kind in kinds if kind not in ("blank", "fence")), "")
    # A passage that begins in lower case or on punctuation was cut mid-sentence.
    cut = first == "prose" and bool(re.match(r"\s*[a-z,;:)\]}.]", hit.text))
    raw: list[Sentence] = []
    prose: list[str] = []
    code: list[str] = []
    language = ""
    section = 0
    # Code shows under the sentence just before it, when nothing (but blank lines) is between.
    attach = False

    def end_prose() -> None:
        nonlocal cut, attach
        if prose:
            split = _split(_join(prose))
            raw.extend(Sentence(s, section=section) for s in split[1 if cut else 0 :])
            attach = len(split) > (1 if cut else 0)
            cut = False
            prose.clear()

    def end_code() -> None:
        nonlocal attach
        if code and attach:
            raw[-1] = replace(raw[-1], code=_dedent(code), language=language)
        code.clear()
        attach = False

    for line, kind, lang in zip(lines, kinds, languages, strict=True):
        if kind == "code":
            end_prose()
            if not code:
                language = lang
            code.append(line)
        elif kind == "prose":
            if code and not prose and re.match(r"\s*[a-z]", line):
                cut = True  # the sentence the code interrupted goes on: a fragment
            end_code()
            if _LIST_MARKER.match(line):
                end_prose()
            prose.append(line)
        elif kind in ("blank", "fence"):
            end_prose()
        else:  # a heading or junk: nothing before it goes on after it
            end_prose()
            end_code()
            section += kind == "heading"
    end_prose()
    end_code()
    return _kept(raw, titles)


def _kept(raw: list[Sentence], titles: list[str]) -> list[Sentence]:
    """The clean sentences; code under one that is not ("For example:") moves to the one
    before it."""
    kept: list[Sentence] = []
    previous: Sentence | None = None
    for sentence in raw:
        clean = _clean(sentence, titles)
        if clean is not None:
            kept.append(clean)
        elif sentence.code and kept and kept[-1] is previous and not kept[-1].code:
            code = _code_lines(sentence.code)
            kept[-1] = replace(kept[-1], code=code, language=sentence.language)
        previous = clean
    return kept


def _classify(lines: list[str], titles: set[str]) -> tuple[list[str], list[str]]:
    """Each line's kind (blank, fence, code, heading, junk, prose) and its code's language."""
    fenced, languages = _fenced(lines)
    kinds: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if fenced[index] is None:
            kinds.append("fence")
        elif fenced[index]:
            kinds.append("code")
        elif not stripped:
            kinds.append("blank")
        elif _JUNK_LINE.search(stripped):
            # "}" or ")" under code closes it; elsewhere a line of symbols is a rule.
            after_code = bool(kinds) and kinds[-1] == "code" and not stripped.isdigit()
            kinds.append("code" if after_code and not re.search(r"\.{4}", stripped) else "junk")
        elif _norm(stripped.lstrip("#")) in titles:
            kinds.append("heading")
        elif _is_code(stripped, bool(kinds) and kinds[-1] == "code"):
            kinds.append("code")
        elif _ATX.match(line):
            kinds.append("heading")
        else:
            kinds.append("prose")
    # A `#` line between code lines is a comment, and a short line standing alone between
    # sentences is a heading or running head the passage carries with it.
    for index, kind in enumerate(kinds):
        before = _neighbour(kinds, lines, index, -1)
        after = _neighbour(kinds, lines, index, 1)
        if kind == "heading" and "code" in (before[0], after[0]) and _ATX.match(lines[index]):
            kinds[index] = "code"
        elif kind == "prose" and _is_heading_like(lines[index], before, after):
            kinds[index] = "heading"
    return kinds, languages


def _neighbour(kinds: list[str], lines: list[str], index: int, step: int) -> tuple[str, str]:
    """The kind and text of the nearest line before or after `index` (blank lines count)."""
    other = index + step
    if 0 <= other < len(kinds):
        return kinds[other], lines[other].strip()
    return "edge", ""


def _is_heading_like(line: str, before: tuple[str, str], after: tuple[str, str]) -> bool:
    stripped = line.strip()
    if len(stripped.split()) > HEADING_WORDS or re.search(r"[.!?:;,]$", stripped):
        return False
    if _LIST_MARKER.match(stripped):
        return False
    sentence_before = before[0] != "prose" or bool(_TERMINAL.search(before[1]))
    starts_after = after[0] != "prose" or bool(re.match(r"[A-Z0-9]", after[1]))
    return sentence_before and starts_after


def _fenced(lines: list[str]) -> tuple[list[bool | None], list[str]]:
    """Per line: True inside a fenced block, None for a fence, False outside; with the
    block's language. A passage may begin inside a block whose opening fence it lost."""
    fences = [i for i, line in enumerate(lines) if _FENCE.match(line)]
    inside = False
    if len(fences) % 2 == 1:
        first = _FENCE.match(lines[fences[0]])
        before = [line.strip() for line in lines[: fences[0]] if line.strip()]
        if first is not None and not first.group(2) and before:
            coded = sum(_is_code(line, False) for line in before)
            inside = coded * 2 >= len(before)
    marks: list[bool | None] = []
    languages: list[str] = []
    language = ""
    for line in lines:
        fence = _FENCE.match(line)
        if fence:
            inside = not inside
            language = fence.group(2) if inside else ""
            marks.append(None)
        else:
            marks.append(inside)
        languages.append(language)
    return marks, languages


def _is_code(line: str, after_code: bool) -> bool:
    """Whether a line outside any fence reads as code or console output."""
    if _OUTPUT.match(line) or _PROMPT.match(line) or _CODE_START.match(line):
        return True
    if _R_PROMPT.match(line):
        # `> x <- c(1, 2)` is R; `> A quoted remark` is a Markdown quote.
        rest = line[1:].strip()
        return not _looks_like_prose(rest) or _CODE_OPERATOR.search(rest) is not None
    if after_code and line.startswith("+ "):
        return True  # R's continuation prompt
    if _CODE_OPERATOR.search(line) or _ASSIGNMENT.match(line):
        return not _looks_like_prose(line.split(" #", 1)[0])
    if re.fullmatch(_CALL, line) or re.fullmatch(rf"{_IDENT}(?:\[[^\]\n]*\])+", line):
        return True
    visible = [c for c in line if not c.isspace()]
    symbols = sum(c in _CODE_CHARS for c in visible)
    return symbols / len(visible) > 0.2 and not _TERMINAL.search(line)


def _looks_like_prose(text: str) -> bool:
    """Three plain words in a row: how prose, not code, reads."""
    return bool(re.search(r"[A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,}", text))


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _join(lines: list[str]) -> str:
    """A paragraph's lines as one line; a word hyphenated across a line break is rejoined."""
    text = ""
    for line in lines:
        line = line.strip()
        if not text:
            text = _LIST_MARKER.sub("", line)
            text = re.sub(r"^>\s*", "", text)
        elif re.search(r"[a-z]-$", text) and re.match(r"[a-z]", line):
            text = text[:-1] + line
        else:
            text = f"{text} {line}"
    return text


def _split(paragraph: str) -> list[str]:
    """A paragraph's sentences; code spans and abbreviations do not end one."""
    protected = _INLINE_CODE.sub(lambda m: m.group(0).replace(".", "\0"), paragraph)
    sentences: list[str] = []
    start = 0
    for end in _SENTENCE_END.finditer(protected):
        before = protected[start : end.start()].split()[-2:]
        last = before[-1].lower() if before else ""
        after = protected[end.end() :].split(None, 1)[:1]
        initial = re.compile(r"[A-Z]\.?")
        if last in _ABBREVIATIONS:
            continue  # "e.g. Newton"
        if initial.fullmatch(before[-1] if before else "") and (
            (len(before) == 2 and initial.fullmatch(before[0]))
            or (after and re.fullmatch(r"[A-Z]\.", after[0]))
        ):
            continue  # "R. A. Fisher", but "vectors in R. The" ends a sentence
        sentences.append(protected[start : end.end()].strip())
        start = end.end()
    sentences.append(protected[start:].strip())
    return [s.replace("\0", ".") for s in sentences if s]


def _clean(sentence: Sentence, titles: list[str]) -> Sentence | None:
    """The sentence without a heading glued to its start, code in backticks; None if junk."""
    text = sentence.text
    stripped = True
    while stripped:
        stripped = False
        for title in titles:
            rest = text[len(title) :].lstrip()
            if text.startswith(title) and rest and rest[0].isupper() and rest != text:
                text, stripped = rest, True
    # Whole: its end is in the passage, or it leads into the code it introduces (manuals
    # write "use the R command" with the command on the next line, and no colon).
    if not (_TERMINAL.search(text) or sentence.code):
        return None
    if len(text) > MAX_SENTENCE:
        text = text[:MAX_SENTENCE].rsplit(" ", 1)[0] + " …"
    text = inline_code(text)
    if not _has_sentence_shape(text):
        return None
    return replace(sentence, text=text, code=_code_lines(sentence.code))


def _code_lines(code: tuple[str, ...]) -> tuple[str, ...]:
    if len(code) <= MAX_CODE_LINES:
        return code
    return (*code[:MAX_CODE_LINES], "…")


def _has_sentence_shape(text: str) -> bool:
    """Long enough, mostly words rather than numbers or symbols, and verb-ish."""
    prose = _INLINE_CODE.sub(" ", text)
    words = _WORD.findall(prose)
    if len(words) < MIN_WORDS or _JUNK_LINE.search(prose):
        return False
    tokens = prose.split()
    numbers = sum(bool(re.fullmatch(r"[\d.,:;()\-–]+", t)) for t in tokens)
    letters = sum(c.isalpha() for c in prose)
    visible = sum(not c.isspace() for c in prose)
    if numbers * 3 > len(tokens) or letters < 0.6 * visible:
        return False
    return len(words) >= 2 * MIN_WORDS or bool(_VERB_ISH.search(prose))


def inline_code(text: str) -> str:
    """Prose with the code inside it (and any bracketed number) in backticks."""
    pieces: list[str] = []
    last = 0
    for span in _INLINE_CODE.finditer(text):
        pieces.append(_wrap_code(text[last : span.start()]))
        pieces.append(span.group(0))
        last = span.end()
    pieces.append(_wrap_code(text[last:]))
    return "".join(pieces)


def _wrap_code(prose: str) -> str:
    def wrap(match: re.Match[str]) -> str:
        code = match.group(0)
        if _PLURAL.fullmatch(code):
            return code  # "function(s)" is prose
        return f"`{code}`"

    return _CODE_IN_PROSE.sub(wrap, prose)


def _dedent(lines: list[str]) -> tuple[str, ...]:
    kept = [line.rstrip() for line in lines]
    while kept and not kept[-1]:
        kept.pop()
    indents = [len(line) - len(line.lstrip()) for line in kept if line.strip()]
    cut = min(indents, default=0)
    return tuple(line[cut:] for line in kept)
