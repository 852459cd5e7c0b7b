"""What the widget tests share: a ChatPanel on a real server, and every HTML string a
panel sends to the browser."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import ipywidgets as w

from studymate_jupyter import ChatPanel
from studymate_jupyter.pytest_plugin import ServerProcess


@contextlib.asynccontextmanager
async def panel_on(server: ServerProcess, **kwargs: Any) -> AsyncIterator[ChatPanel]:
    """A ChatPanel connected to `server`, closed afterwards."""
    panel = ChatPanel(url=server.url, token=server.token, **kwargs)
    try:
        await panel.wait_ready()
        yield panel
    finally:
        await asyncio.to_thread(panel.close)


def all_widgets(root: Any) -> list[Any]:
    found = [root]
    for child in getattr(root, "children", ()):
        found.extend(all_widgets(child))
    return found


def html_values(panel: ChatPanel) -> list[str]:
    """Every HTML string the panel sends to the browser (set there as innerHTML).

    Button descriptions, tooltips and dropdown labels are text: ipywidgets sets them as
    textContent and attributes, so they are not HTML."""
    return [
        widget.value
        for widget in all_widgets(panel.screen.widget)
        if isinstance(widget, (w.HTML, w.HTMLMath))
    ]
