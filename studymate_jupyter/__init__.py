"""StudyMate for Jupyter: a study assistant that answers from your course material."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .widget import ChatPanel

__version__ = "0.1.0"
__all__ = ["ChatPanel"]


def __getattr__(name: str) -> Any:
    # Lazy: loading the server extension must not import ipywidgets.
    if name == "ChatPanel":
        from .widget import ChatPanel

        return ChatPanel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import StudyMate

    return [{"module": "studymate_jupyter", "app": StudyMate}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "studymate-jupyter"}]
