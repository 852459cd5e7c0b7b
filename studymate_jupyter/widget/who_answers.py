"""Who answers in the chat, in the words the JupyterLab panel uses (``format.ts``): a line
naming the assistant and its model, and a warning while it cannot answer, with the server's
sentence why. Text only: the screen escapes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..protocol import AssistantInfo

#: The kinds of server a built-in assistant's model runs on, by the assistant's name.
MODEL_SERVERS = {"openai": "OpenAI-compatible server"}


def assistant_line(info: AssistantInfo) -> str:
    """``Answered by llama3.2 (OpenAI-compatible server)``; the offline extractive assistant
    answers with passages of the library itself."""
    if info["name"] == "extractive":
        return "Answered offline from your library's passages"
    model = info.get("model")
    if model:
        return f"Answered by {model} ({MODEL_SERVERS.get(info['name'], info['name'])})"
    return f"Answered by the {info['name']} assistant"


def assistant_warning(info: AssistantInfo) -> str | None:
    """What the chat warns of while the assistant cannot answer; ``None`` while it can."""
    if info["ready"]:
        return None
    model = info.get("model")
    who = f"The language model {model}" if model else f"The {info['name']} assistant"
    why = info.get("detail", "").strip()
    return f"{who} cannot answer now." + (f" {why}" if why else "")
