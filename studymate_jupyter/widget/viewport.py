"""Where the panel is on the page: whether the end of its conversation is on screen, and
scrolling a highlighted message into view. The Python side of a widget cannot know either;
this small anywidget (our own ES module, no front-end build) asks the browser.

Each rendered view of it reports ``{"type": "visible", "view", "visible"}`` as an
IntersectionObserver and the page's visibility see it; the panel counts as shown while any
view is on screen in a visible tab (the same output may be shown twice, in a notebook and in
a side-by-side view of it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

_ESM = """
function render({ model, el }) {
  const view = Math.random().toString(36).slice(2);
  let onScreen = false;
  const report = () => {
    try {
      model.send({
        type: "visible",
        view,
        visible: onScreen && document.visibilityState === "visible",
      });
    } catch (error) {
      // The model is gone (the panel was closed): nothing to tell.
    }
  };
  const observer = new IntersectionObserver((entries) => {
    onScreen = entries.some((entry) => entry.isIntersecting);
    report();
  });
  observer.observe(el);
  document.addEventListener("visibilitychange", report);
  const scroll = (tries) => {
    const root = el.closest(".studymate-panel") || document;
    const row = root.querySelector(".studymate-highlight");
    if (row) row.scrollIntoView({ block: "center", behavior: "smooth" });
    else if (tries > 0) setTimeout(() => scroll(tries - 1), 100);
  };
  model.on("change:scroll_count", () => scroll(20));
  return () => {
    observer.disconnect();
    document.removeEventListener("visibilitychange", report);
    onScreen = false;
    report();
  };
}
export default { render };
"""

_CSS = """
.studymate-viewport { min-height: 1px; width: 100%; }
"""


class Viewport(anywidget.AnyWidget):
    """A one-pixel line below the conversation; ``visible`` while a view of it is on screen."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    _css = traitlets.Unicode(_CSS).tag(sync=True)
    #: Raised to ask the browser to scroll the highlighted message into view.
    scroll_count = traitlets.Int(0).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("studymate-viewport")
        self._lock = threading.Lock()
        self._seen_by: set[str] = set()
        self._callbacks: list[Callable[[bool], None]] = []
        self.on_msg(self._on_custom_msg)

    @property
    def visible(self) -> bool:
        with self._lock:
            return bool(self._seen_by)

    def on_change(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(visible)`` whenever the panel comes on screen or leaves it."""
        self._callbacks.append(callback)

    def scroll_to_highlight(self) -> None:
        self.scroll_count += 1

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "visible":
            return
        view, visible = content.get("view"), content.get("visible")
        if not isinstance(view, str) or not isinstance(visible, bool):
            return
        with self._lock:
            before = bool(self._seen_by)
            if visible:
                self._seen_by.add(view)
            else:
                self._seen_by.discard(view)
            now = bool(self._seen_by)
        if now != before:
            for callback in self._callbacks:
                callback(now)
