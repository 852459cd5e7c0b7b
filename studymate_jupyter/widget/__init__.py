"""The StudyMate chat as a notebook widget (stock ipywidgets, no front-end build)."""

from __future__ import annotations

from .panel import ChatPanel

__all__ = ["ChatPanel"]
