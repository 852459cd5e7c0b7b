"""Assistant providers: turn a question (and the chat so far) into a streamed, cited answer."""

from .base import Answer, Assistant, AssistantError, Question, Turn

__all__ = ["Answer", "Assistant", "AssistantError", "Question", "Turn"]
