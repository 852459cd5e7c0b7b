"""Markdown to sanitized HTML for the widget: nothing from a model, a user or a document
reaches the browser unsanitized (``ipywidgets.HTML`` and ``HTMLMath`` set ``innerHTML``)."""

from __future__ import annotations

import html
import re
import secrets

import nh3
from markdown_it import MarkdownIt

# What Markdown may produce, and nothing that runs code, loads a resource or styles the page.
ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "code": {"class"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

# Raw HTML is parsed (so models' <sub> or <br> work) and then cleaned by nh3; linkify off.
_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

# Code first, so that `$x$` inside code stays code; then display math, then inline math
# (no space just inside the dollars: "$5 and $10" is money, as in Jupyter's Markdown cells).
_MATH = re.compile(
    r"(?P<code>```[\s\S]*?(?:```|$)|~~~[\s\S]*?(?:~~~|$)|(?P<ticks>`+)[\s\S]*?(?P=ticks))"
    r"|(?P<math>\$\$[\s\S]+?\$\$|\\\[[\s\S]+?\\\]|\\\([\s\S]+?\\\)"
    r"|(?<![\\$])\$(?=[^\s$`])[^$\n`]*?[^\s\\$`]\$(?!\d))"
)


def sanitize(fragment: str) -> str:
    """Keep only harmless Markdown HTML; links open in a new tab with no opener."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


def render_markdown(text: str) -> str:
    """Markdown to sanitized HTML, with TeX left as (escaped) text for ``HTMLMath``."""
    nonce = secrets.token_hex(4)
    maths: list[str] = []

    def protect(match: re.Match[str]) -> str:
        if match.group("math") is None:
            return match.group(0)
        maths.append(match.group("math"))
        return f"smmath{nonce}x{len(maths) - 1}x"

    protected = _MATH.sub(protect, text)
    cleaned = sanitize(_markdown.render(protected))
    if not maths:
        return cleaned
    # Math goes back in after cleaning, escaped: MathJax reads it from text nodes.
    return re.sub(
        rf"smmath{nonce}x(\d+)x",
        lambda m: html.escape(maths[int(m.group(1))], quote=False),
        cleaned,
    )


def render_text(text: str) -> str:
    """Plain text (a document's passage) as escaped HTML that keeps its line breaks."""
    return f'<div style="white-space: pre-wrap">{html.escape(text)}</div>'


def escape(text: str) -> str:
    """Text for an HTML widget: escaped, including quotes."""
    return html.escape(text, quote=True)
