"""The getting-started notebook and its chat widget in a real JupyterLab, as a newcomer runs
them: `jupyter lab` over a folder holding `notebooks/`, the notebook opened by its URL, *Run All
Cells* from the Run menu. jupyter-server's session manager starts the kernel (with
`JPY_SESSION_NAME` and the notebook's folder as its working directory), which nbclient does not.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from labpage import PAGE_ERRORS, expect, shot

from studymate_jupyter.pytest_plugin import ServerProcess

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"
#: The last cell's value once the conversation holds the cited answer.
CONVERSATION = re.compile(r"\[\('user', 'complete', 0\), \('assistant', 'complete', [1-9]\d*\)\]")


@pytest.fixture(scope="module")
def notebook(page: Any, lab: ServerProcess) -> Any:
    """The getting-started notebook, open in JupyterLab, after Run All Cells."""
    folder = lab.root_dir / "notebooks"
    folder.mkdir()
    for name in ("getting-started.ipynb", "sample-notes.md"):
        shutil.copy(NOTEBOOKS / name, folder / name)
    page.goto(f"{lab.url}lab/tree/notebooks/getting-started.ipynb")
    panel = page.locator(".jp-NotebookPanel")
    expect(panel).to_be_visible(timeout=60_000)
    # As a user waits for it: the status bar names the kernel once it is connected and idle
    # (the toolbar's indicator says "idle" before the kernel is there).
    expect(
        page.locator(".jp-StatusBar-Widget", has_text="Python 3 (ipykernel) | Idle")
    ).to_be_visible(timeout=60_000)
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells")).click()
    expect(panel.locator(".jp-OutputArea-output", has_text=CONVERSATION)).to_have_count(
        1, timeout=120_000
    )
    # Its "Open a citation" cell opens the notes at the cited section, in front: go back.
    page.locator(".lm-TabBar-tab", has_text="getting-started.ipynb").click()
    expect(panel).to_be_visible()
    return panel


def widget(notebook: Any) -> Any:
    """The chat widget in the first cell's output."""
    return notebook.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output")


def user_bubbles(notebook: Any) -> Any:
    return widget(notebook).locator("b", has_text=re.compile(r"^You$"))


def test_the_getting_started_notebook_runs_all_cells_in_jupyterlab_and_cites_the_notes(
    notebook: Any,
) -> None:
    outputs = notebook.locator(".jp-OutputArea-output")
    text = "\n".join(outputs.all_inner_texts())
    assert "sample-notes.md: ready" in text
    assert re.search(r"^\[1\] sample-notes\.md § The learning rate", text, re.MULTILINE), text
    assert "learning rate" in text
    # No cell failed: no error output, no traceback on stderr.
    errors = notebook.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    )
    assert not [e for e in errors.all_inner_texts() if "Error" in e or "Traceback" in e]
    # The widget found the server that runs its kernel, and shows the answer with its chip.
    expect(widget(notebook).get_by_text("connected", exact=False).first).to_be_visible()
    expect(
        widget(notebook).get_by_role("button", name=re.compile(r"^\[1\] sample-notes\.md § "))
    ).to_be_visible()
    assert not PAGE_ERRORS, PAGE_ERRORS
    widget(notebook).scroll_into_view_if_needed()
    shot(notebook.page, "notebook-widget")


def test_enter_sends_from_the_widget_and_shift_enter_adds_a_line(notebook: Any) -> None:
    box = widget(notebook).get_by_role("textbox", name="Ask StudyMate")
    asked = user_bubbles(notebook).count()
    box.click()
    box.press_sequentially("What does momentum add?")
    box.press("Shift+Enter")
    box.press_sequentially("And why?")
    # Shift+Enter made a new line: nothing was sent, and the notebook ran no cell.
    expect(box).to_have_value("What does momentum add?\nAnd why?")
    notebook.page.wait_for_timeout(500)
    assert user_bubbles(notebook).count() == asked
    box.press("Enter")
    expect(box).to_have_value("")
    expect(user_bubbles(notebook)).to_have_count(asked + 1)
    you = notebook.page.locator("b", has_text=re.compile(r"^You$"))
    question = widget(notebook).locator(".widget-htmlmath", has=you).last
    expect(question).to_contain_text("What does momentum add?")
    expect(question).to_contain_text("And why?")
    answers = widget(notebook).locator("b", has_text=re.compile(r"^StudyMate$"))
    expect(answers).to_have_count(asked + 1)
    expect(widget(notebook).get_by_text("momentum", exact=False).last).to_be_visible()
    assert not PAGE_ERRORS, PAGE_ERRORS
