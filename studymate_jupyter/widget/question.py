"""The question box: a text area where Enter sends and Shift+Enter starts a new line.

No stock ipywidget can do it: ``Textarea`` reports no keys, and ``Text.on_submit`` is
deprecated and single-line. This is a small anywidget (our own ES module, no front-end build),
so it works wherever widgets do: JupyterLab, Notebook 7, VS Code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

_ESM = """
function render({ model, el }) {
  const box = document.createElement("textarea");
  box.className = "studymate-question";
  box.rows = model.get("rows");
  box.placeholder = model.get("placeholder");
  box.value = model.get("value");
  box.setAttribute("aria-label", model.get("label"));
  const sync = () => {
    model.set("value", box.value);
    model.save_changes();
  };
  box.addEventListener("input", sync);
  box.addEventListener("keydown", (event) => {
    // The notebook's own shortcuts (Shift+Enter runs the cell, A/B add cells) must not see
    // keys typed here: JupyterLab handles keydown as it bubbles.
    event.stopPropagation();
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sync();
      model.send({ type: "submit", text: box.value });
    }
  });
  model.on("change:value", () => {
    if (box.value !== model.get("value")) box.value = model.get("value");
  });
  model.on("change:placeholder", () => { box.placeholder = model.get("placeholder"); });
  el.appendChild(box);
}
export default { render };
"""

_CSS = """
.studymate-question {
  box-sizing: border-box;
  width: 100%;
  resize: vertical;
  font: inherit;
  color: var(--jp-ui-font-color0, inherit);
  background: var(--jp-layout-color0, inherit);
  border: var(--jp-border-width, 1px) solid var(--jp-border-color1, #ccc);
  border-radius: 2px;
  padding: 4px 6px;
}
.studymate-question:focus {
  outline: none;
  border-color: var(--jp-brand-color1, #1976d2);
}
"""


class QuestionBox(anywidget.AnyWidget):
    """A question input: ``value`` is its text; Enter calls the ``on_submit`` callbacks."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    _css = traitlets.Unicode(_CSS).tag(sync=True)
    value = traitlets.Unicode("").tag(sync=True)
    placeholder = traitlets.Unicode("").tag(sync=True)
    label = traitlets.Unicode("Ask StudyMate").tag(sync=True)
    rows = traitlets.Int(2).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._submit_callbacks: list[Callable[[str], None]] = []
        self.on_msg(self._on_custom_msg)

    def on_submit(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(text)`` when the user presses Enter."""
        self._submit_callbacks.append(callback)

    def submit(self) -> None:
        """Send the current text, as Enter does."""
        for callback in self._submit_callbacks:
            callback(self.value)

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "submit":
            text = content.get("text")
            if isinstance(text, str):
                # The text as the user saw it when pressing Enter, even if the value's own sync
                # message has not been applied yet.
                self.value = text
            self.submit()
