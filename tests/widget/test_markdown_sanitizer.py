"""What the widget renders: sanitized Markdown, TeX left for HTMLMath, citation links."""

from __future__ import annotations

import subprocess
import sys

import pytest

from studymate_jupyter.widget.citations import comm_message, file_url, preview_link
from studymate_jupyter.widget.render import render_markdown, render_text

CITATION = {
    "document_id": "d",
    "chunk_id": "c",
    "filename": "lecture 1.pdf",
    "path": "course/lecture 1.pdf",
    "page_start": 3,
    "page_end": 4,
    "score": 0.5,
    "anchor": None,
}


@pytest.mark.parametrize(
    "hostile",
    [
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        "<iframe src=https://example.org></iframe>",
        '<p style="position:fixed" onclick="x()">p</p>',
        "<svg onload=alert(1)>",
    ],
)
def test_hostile_markdown_renders_nothing_active(hostile):
    rendered = render_markdown(f"before {hostile} after")
    assert "before" in rendered
    for active in ("<script", "<img", "<iframe", "<svg", "onerror", "onload", "onclick"):
        assert active not in rendered
    assert 'href="javascript' not in rendered.lower()
    assert "style=" not in rendered


def test_markdown_keeps_its_formatting_and_safe_links_open_in_a_new_tab():
    rendered = render_markdown("**bold** `code` [site](https://example.org)\n\n- one\n- two")
    assert "<strong>bold</strong>" in rendered
    assert "<code>code</code>" in rendered
    assert "<li>one</li>" in rendered
    assert 'href="https://example.org"' in rendered
    assert 'target="_blank"' in rendered
    assert "noopener" in rendered


def test_math_is_left_as_escaped_tex_for_htmlmath_and_code_is_not_math():
    rendered = render_markdown(r"$a_1 * b_2$ and $$x<y$$ but `$not math$` costs $5 and $10")
    assert "$a_1 * b_2$" in rendered  # not turned into emphasis
    assert "$$x&lt;y$$" in rendered
    assert "<code>$not math$</code>" in rendered
    assert "$5 and $10" in rendered


def test_passage_text_is_escaped_and_keeps_its_lines():
    rendered = render_text("line <b>one</b>\nline two")
    assert "&lt;b&gt;one&lt;/b&gt;" in rendered
    assert "pre-wrap" in rendered


def test_a_pdf_citation_links_to_its_page_under_the_server_base_path():
    assert file_url("http://hub.example/user/ana/", CITATION) == (
        "/user/ana/files/course/lecture%201.pdf#page=3"
    )
    link = preview_link("http://127.0.0.1:8888/", {**CITATION, "heading": "", "text": ""})
    assert 'href="/files/course/lecture%201.pdf#page=3"' in link
    assert 'target="_blank"' in link


def test_the_comm_message_asks_jupyterlab_to_open_the_file_at_the_page():
    assert comm_message(CITATION) == {
        "action": "open_citation",
        "path": "course/lecture 1.pdf",
        "page": 3,
        "anchor": None,
    }


def test_loading_the_server_extension_does_not_import_ipywidgets():
    code = (
        "import sys, studymate_jupyter\n"
        "studymate_jupyter._jupyter_server_extension_points()\n"
        "assert 'ipywidgets' not in sys.modules\n"
        "from studymate_jupyter import ChatPanel\n"
        "assert 'ipywidgets' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
