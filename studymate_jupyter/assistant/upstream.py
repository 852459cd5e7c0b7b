"""Talking to an OpenAI-compatible server: a streamed chat completion, the list of its models,
and each way of failing as a sentence a student may read.

Nothing here puts a URL, host, port, key or the server's own error text into a sentence: the
server's body may echo the key or name internal hosts.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import httpx

from .base import AssistantError

UNREACHABLE = "The model server could not be reached: is it running?"
CUT_OFF = "The model server closed the connection before the answer was complete."
UNREADABLE = "The model server sent part of its answer in a form StudyMate cannot read."
FAILED_MIDWAY = "The model server reported an error while it was answering."


@dataclass(frozen=True)
class Endpoint:
    """Where and how to ask: the API's base URL, the model, and the key (if any) for this
    request, read from the environment just before it."""

    base_url: str
    model: str
    key: str
    key_env: str
    # Seconds to the first token, and between tokens.
    timeout: float

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}


async def stream_completion(
    client: httpx.AsyncClient, endpoint: Endpoint, body: dict[str, Any]
) -> AsyncGenerator[str, None]:
    """The text pieces of `POST chat/completions` with `stream: true`, as they arrive.

    Raises AssistantError for each failure. Closing the iterator (a `stop`) closes the
    connection, which the model server sees as the client going away.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + endpoint.timeout
    request = client.build_request(
        "POST",
        endpoint.url("chat/completions"),
        json={**body, "model": endpoint.model, "stream": True},
        headers={**endpoint.headers, "Accept": "text/event-stream"},
    )
    try:
        async with asyncio.timeout_at(deadline):
            response = await client.send(request, stream=True)
    except TimeoutError:
        raise _late(endpoint, first=True) from None
    except httpx.TransportError:
        raise AssistantError(UNREACHABLE) from None
    try:
        if response.status_code != 200:
            raise refusal(response, endpoint)
        finished = False
        async with aclosing(_data_lines(response)) as events:
            while True:
                async with asyncio.timeout_at(deadline):
                    data = await anext(events, None)
                if data is None:
                    # A body that just ends was cut off, unless the last chunk said it was done.
                    if finished:
                        return
                    raise AssistantError(CUT_OFF)
                if data == "[DONE]":
                    return
                text, finished = chunk_text(data)
                if text:
                    yield text
                    deadline = loop.time() + endpoint.timeout
    except TimeoutError:
        raise _late(endpoint, first=False) from None
    except httpx.TransportError:
        raise AssistantError(CUT_OFF) from None
    finally:
        await response.aclose()


async def list_models(client: httpx.AsyncClient, endpoint: Endpoint) -> list[str] | None:
    """The model ids `GET models` lists; None when the server has no such list (404)."""
    try:
        async with asyncio.timeout(endpoint.timeout):
            response = await client.get(endpoint.url("models"), headers=endpoint.headers)
    except TimeoutError:
        raise _late(endpoint, first=True) from None
    except httpx.TransportError:
        raise AssistantError(UNREACHABLE) from None
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise refusal(response, endpoint)
    try:
        listed = response.json()["data"]
        return [str(model["id"]) for model in listed]
    except (ValueError, KeyError, TypeError):
        raise AssistantError("The model server's list of models could not be read.") from None


def chunk_text(data: str) -> tuple[str, bool]:
    """The text one `data:` chunk adds, and whether it ends the answer (`finish_reason`)."""
    try:
        chunk = json.loads(data)
    except ValueError:
        raise AssistantError(UNREADABLE) from None
    if not isinstance(chunk, dict):
        raise AssistantError(UNREADABLE)
    if "error" in chunk:
        raise AssistantError(FAILED_MIDWAY)
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        raise AssistantError(UNREADABLE)
    if not choices:
        return "", False  # a usage-only chunk, as OpenAI sends last with include_usage
    choice = choices[0]
    delta = choice.get("delta") if isinstance(choice, dict) else None
    if not isinstance(delta, dict):
        raise AssistantError(UNREADABLE)
    text = delta.get("content") or ""
    if not isinstance(text, str):
        raise AssistantError(UNREADABLE)
    return text, choice.get("finish_reason") is not None


def refusal(response: httpx.Response, endpoint: Endpoint) -> AssistantError:
    """The sentence for an answer other than 200 (its body is never read: it is theirs)."""
    status = response.status_code
    if status in (401, 403):
        if not endpoint.key:
            return AssistantError(
                "The model server wants a key: put it in the environment variable "
                f"{endpoint.key_env} of the Jupyter server and ask again."
            )
        return AssistantError(f"The model server refused the key in {endpoint.key_env}.")
    if status == 404:
        return AssistantError(
            f'The model server does not know the model "{endpoint.model}" '
            "(check OpenAIProvider.model and base_url)."
        )
    if status == 429:
        wait = _retry_after(response.headers.get("Retry-After"))
        when = f"in {wait} seconds" if wait else "in a moment"
        return AssistantError(f"The model server is busy: try again {when}.")
    if status >= 500:
        return AssistantError(f"The model server failed (HTTP {status}): try again later.")
    return AssistantError(f"The model server refused the request (HTTP {status}).")


def _retry_after(value: str | None) -> int | None:
    """Whole seconds from a `Retry-After` of seconds (its date form is rare from APIs)."""
    try:
        seconds = float(value or "")
    except ValueError:
        return None
    return math.ceil(seconds) if math.isfinite(seconds) and seconds > 0 else None


def _late(endpoint: Endpoint, *, first: bool) -> AssistantError:
    wait = f"{endpoint.timeout:g} seconds"
    if first:
        return AssistantError(f"The model server did not start answering within {wait}.")
    return AssistantError(f"The model server sent nothing for {wait}; the answer stops here.")


async def _data_lines(response: httpx.Response) -> AsyncGenerator[str, None]:
    """The payload of each server-sent event's `data:` lines (comments and other fields
    skipped; an event's several data lines joined as the SSE format says)."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)
