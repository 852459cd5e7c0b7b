"""notebooks/getting-started.ipynb runs top to bottom, headlessly, against a real server."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def test_the_getting_started_notebook_runs_and_keeps_the_cited_answer(
    studymate_server, monkeypatch
):
    root = studymate_server.root_dir
    for name in ("getting-started.ipynb", "sample-notes.md"):
        shutil.copy(NOTEBOOKS / name, root / name)
    # What the kernel learns from its environment: the server (as the client's discovery
    # honours it) and, as jupyter-server tells kernels, the notebook's absolute path. The
    # notebook as JupyterLab runs it is tests/browser/test_notebook_in_lab.py.
    monkeypatch.setenv("STUDYMATE_URL", studymate_server.url)
    monkeypatch.setenv("STUDYMATE_TOKEN", studymate_server.token)
    monkeypatch.setenv("JPY_SESSION_NAME", str(root / "getting-started.ipynb"))

    nb = nbformat.read(root / "getting-started.ipynb", as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(root)}},
    )
    client.execute()

    outputs = "".join(
        out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    assert "sample-notes.md: ready" in outputs
    assert "[1] sample-notes.md § The learning rate" in outputs
    assert "learning rate" in outputs
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]

    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    models = [m["state"] for m in state.values()]
    bodies = [m.get("value", "") for m in models if m.get("_model_name") == "HTMLMathModel"]
    chips = [m.get("description", "") for m in models if m.get("_model_name") == "ButtonModel"]
    answers = [b for b in bodies if "StudyMate" in b and "learning rate" in b and "[1]" in b]
    assert answers, "the stored widget state holds the cited answer"
    # The notes are Markdown: a chip names the section it cites.
    assert any(c.startswith("[1] sample-notes.md \u00a7 ") for c in chips)
    # The preview shows the passage the first citation points to.
    assert any("learning rate" in b and "pre-wrap" in b for b in bodies)
    # Nothing secret is kept in the notebook.
    assert studymate_server.token not in nbformat.writes(nb)
