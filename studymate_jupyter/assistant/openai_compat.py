"""A provider for any OpenAI-compatible chat-completions server (a local Ollama or vLLM too)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..passages import citation_of
from .base import Answer, Assistant, Question

if TYPE_CHECKING:
    from ..protocol import Citation

SYSTEM_PROMPT = (
    "You are StudyMate, a study assistant. Answer the student's question clearly and briefly."
)
SOURCES_PROMPT = (
    "Answer only from these numbered passages of the student's course material. After each "
    "statement, cite its passage as [n]. If they do not answer the question, say so.\n\n"
)
PASSAGES = 5
DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"  # a local Ollama
DEFAULT_MODEL = "llama3.2"
# Seconds the whole streamed request may take.
TIMEOUT = 120.0


class ProviderError(Exception):
    """The remote model failed; the message is safe to show (no key, no URL)."""


class OpenAICompatibleAssistant(Assistant):
    """Streams `POST {base_url}/chat/completions` with `stream: true` (server-sent events)."""

    name = "openai"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Its settings are the app's StudyMate.openai_* traits (defaults without an app).
        app = self.parent
        base_url = str(getattr(app, "openai_base_url", DEFAULT_BASE_URL))
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = str(getattr(app, "openai_model", DEFAULT_MODEL))
        self.api_key = str(getattr(app, "openai_api_key", ""))
        self.timeout = TIMEOUT

    async def answer(self, question: Question) -> Answer:
        system = SYSTEM_PROMPT
        citations: list[Citation] = []
        hits = await self.library.search(question.user_id, question.text, PASSAGES, question.scope)
        if hits:
            numbered = "\n\n".join(f"[{n}] {h.text}" for n, h in enumerate(hits, start=1))
            system = f"{SYSTEM_PROMPT}\n\n{SOURCES_PROMPT}{numbered}"
            citations = [citation_of(h) for h in hits]
        messages: list[dict[str, str]] = [{"role": "system", "content": system}]
        messages += [{"role": t.role, "content": t.content} for t in question.history]
        messages.append({"role": "user", "content": question.text})
        body = {"model": self.model, "messages": messages}
        return Answer(pieces=self._stream(body), citations=citations)

    async def _stream(self, body: dict[str, Any]) -> AsyncIterator[str]:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = HTTPRequest(
            self.url,
            method="POST",
            headers=headers,
            body=json.dumps({**body, "stream": True}),
            streaming_callback=queue.put_nowait,
            request_timeout=self.timeout,
        )
        fetch = asyncio.ensure_future(AsyncHTTPClient().fetch(request, raise_error=True))
        fetch.add_done_callback(lambda _: queue.put_nowait(None))
        buffer = b""
        try:
            while (chunk := await queue.get()) is not None:
                buffer += chunk
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    for piece in _pieces(event):
                        if piece is None:
                            return
                        yield piece
            try:
                await fetch
            except HTTPClientError as exc:
                raise ProviderError(f"the model server answered HTTP {exc.code}") from None
            except OSError:
                raise ProviderError("the model server could not be reached") from None
        finally:
            fetch.cancel()


def _pieces(event: bytes) -> list[str | None]:
    """Text pieces in one SSE event; None marks the `[DONE]` sentinel."""
    out: list[str | None] = []
    for line in event.decode("utf-8", "replace").splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            out.append(None)
            continue
        try:
            choices = json.loads(payload).get("choices") or [{}]
            text = (choices[0].get("delta") or {}).get("content")
        except (ValueError, AttributeError, IndexError):
            continue
        if text:
            out.append(text)
    return out
