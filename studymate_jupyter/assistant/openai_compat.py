"""A provider for any OpenAI-compatible chat-completions server: a local Ollama, vLLM,
llama.cpp's server, LM Studio, OpenAI itself or a gateway in front of one."""

from __future__ import annotations

import math
import os
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import httpx
from traitlets import Bunch, Float, Int, TraitError, Unicode, validate

from ..passages import citation_of
from . import prompt
from .base import Answer, Assistant, AssistantError, Question
from .upstream import Endpoint, list_models, stream_completion

if TYPE_CHECKING:
    from ..protocol import AssistantInfo

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"  # a local Ollama
DEFAULT_MODEL = "llama3.2"
# How long `GET studymate/api/assistant` waits for the model server (it is asked on every
# panel start: a stuck server must not hold the panel for the answering timeout).
INFO_TIMEOUT = 5.0


class OpenAIProvider(Assistant):
    """Answers with a language model, from the passages the library finds for each question,
    streaming `POST {base_url}/chat/completions` (server-sent events)."""

    name = "openai"

    base_url = Unicode(
        DEFAULT_BASE_URL,
        config=True,
        help="""Base URL of the OpenAI-compatible API, up to and including its version
        (default "http://127.0.0.1:11434/v1", a local Ollama).""",
    )
    model = Unicode(
        DEFAULT_MODEL,
        config=True,
        help='Name of the model the API answers with (default "llama3.2").',
    )
    api_key_env = Unicode(
        "OPENAI_API_KEY",
        config=True,
        help="""Name of the environment variable of the Jupyter server that holds the API key
        (default "OPENAI_API_KEY"). It is read for each request and sent only in the
        Authorization header; unset or empty: no key is sent (a local server needs none).""",
    )
    timeout = Float(
        60.0,
        config=True,
        help="""Seconds the model server may take to send the first token of an answer, and
        then between tokens, before the answer fails (default 60; more than 0).""",
    )
    temperature = Float(
        0.2,
        config=True,
        help="Sampling temperature, 0 to 2 (default 0.2: answers that stay close to the text).",
    )
    max_context_tokens = Int(
        4096,
        config=True,
        help="""Tokens the prompt may fill: instructions, passages, the conversation so far
        and the question, counted approximately as 4 characters a token (default 4096; at
        least 256). Passages are never cut; the oldest turns are left out first.""",
    )
    passages = Int(
        5,
        config=True,
        help="How many of the library's best passages are sent with a question (default 5; "
        "1 to 20).",
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The deprecated StudyMate.openai_api_key, when set: a key given in the config.
        self.configured_key = ""
        self._http: httpx.AsyncClient | None = None

    @validate("timeout")
    def _valid_timeout(self, proposal: Bunch) -> float:
        value = float(proposal["value"])
        if not (math.isfinite(value) and value > 0):
            raise TraitError(f"OpenAIProvider.timeout must be more than 0, not {value}")
        return value

    @validate("temperature")
    def _valid_temperature(self, proposal: Bunch) -> float:
        return _in_range(proposal, 0.0, 2.0)

    @validate("max_context_tokens")
    def _valid_max_context_tokens(self, proposal: Bunch) -> float:
        return _in_range(proposal, 256, float("inf"))

    @validate("passages")
    def _valid_passages(self, proposal: Bunch) -> float:
        return _in_range(proposal, 1, 20)

    def endpoint(self, timeout: float | None = None) -> Endpoint:
        """Where to ask, with the key as the environment holds it now."""
        key = self.configured_key or (
            os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        )
        return Endpoint(self.base_url, self.model, key, self.api_key_env, timeout or self.timeout)

    @property
    def http(self) -> httpx.AsyncClient:
        # Made on first use, on the loop that uses it. Its own timeouts are off but connect's:
        # upstream.py times the wait for tokens, which is what the timeout setting means.
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=self.timeout))
        return self._http

    async def answer(self, question: Question) -> Answer:
        hits = await self.library.search(
            question.user_id, question.text, self.passages, question.scope
        )
        sent = prompt.build(question, hits, self.max_context_tokens)
        body = {"messages": sent.messages, "temperature": self.temperature}
        pieces = stream_completion(self.http, self.endpoint(), body)
        if not hits:
            pieces = _after(prompt.WITHOUT_MATERIAL, pieces)
        return Answer(pieces, [citation_of(hit) for hit in hits], settle_markers=True)

    async def info(self) -> AssistantInfo:
        try:
            models = await list_models(self.http, self.endpoint(INFO_TIMEOUT))
        except AssistantError as failure:
            return self._info(False, str(failure))
        if models is None:
            return self._info(True, f"{self.model} answers (the model server lists no models).")
        if not any(_same_model(self.model, listed) for listed in models):
            offered = ", ".join(sorted(models)[:8]) or "none"
            return self._info(
                False, f'The model server has no model "{self.model}" (it has: {offered}).'
            )
        return self._info(True, f"{self.model} answers, from the passages of your library.")

    def _info(self, ready: bool, detail: str) -> AssistantInfo:
        return {"name": self.name, "model": self.model, "ready": ready, "detail": detail}

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def _same_model(wanted: str, listed: str) -> bool:
    # Ollama lists "llama3.2:latest" for the "llama3.2" it answers to.
    return listed == wanted or (":" not in wanted and listed == f"{wanted}:latest")


async def _after(first: str, pieces: AsyncGenerator[str, None]) -> AsyncGenerator[str, None]:
    """`first`, then `pieces`, once the model has started answering (a request the model
    server refuses is answered by the sentence that says so, alone)."""
    # Closed with this one, so that a stop closes the connection at once.
    async with aclosing(pieces):
        async for piece in pieces:
            if first:
                yield first
                first = ""
            yield piece


def _in_range(proposal: Bunch, low: float, high: float) -> float:
    value: float = proposal["value"]
    if not low <= value <= high:
        bounds = f"at least {low:g}" if high == float("inf") else f"from {low:g} to {high:g}"
        raise TraitError(f"OpenAIProvider.{proposal['trait'].name} must be {bounds}, not {value}")
    return value
