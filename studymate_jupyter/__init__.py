"""StudyMate for Jupyter: a study assistant that answers from your course material."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import StudyMate

    return [{"module": "studymate_jupyter", "app": StudyMate}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "studymate-jupyter"}]
