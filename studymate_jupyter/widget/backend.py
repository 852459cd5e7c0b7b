"""Choosing how the widget talks to StudyMate: the running server, or in-process."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..client import RestClient, ServerNotFound, StudyMateClient, StudyMateError
from ..client.local import LocalClient
from ..protocol import Document, Passage

log = logging.getLogger("studymate_jupyter.widget")


@dataclass
class Backend:
    """A started client and what the header says about it."""

    client: StudyMateClient
    #: The server's base URL (for links to files); ``None`` in-process.
    base_url: str | None
    #: Why the widget runs in-process (shown in the header); ``None`` with a server.
    local_reason: str | None = None

    @property
    def in_process(self) -> bool:
        return isinstance(self.client, LocalClient)

    async def passage(self, document_id: str, chunk_id: str) -> Passage:
        return await self.client.passage(document_id, chunk_id)

    async def add_document(self, path: str) -> Document:
        return await self.client.add_document(path)

    async def get_document(self, document_id: str) -> Document:
        return await self.client.get_document(document_id)


async def open_backend(
    client: StudyMateClient,
    *,
    root_dir: str | Path | None,
    local_traits: dict[str, Any],
    probe_timeout: float,
) -> Backend:
    """``client`` if the server it names (arguments, environment, discovery) answers as
    StudyMate; otherwise a started in-process client (root: ``root_dir`` or the working
    directory). A server that refuses the token is an error, not a reason to go local."""
    try:
        server = await client.resolve()
    except ServerNotFound:
        reason = "No Jupyter server found"
    else:
        probe = RestClient(server, request_timeout=probe_timeout)
        try:
            await asyncio.wait_for(probe.me(), probe_timeout + 1)
        except StudyMateError as exc:
            if exc.code == "forbidden":
                raise
            reason = (
                f"No StudyMate at {server.base_url}"
                if exc.code == "not_found"
                else f"No Jupyter server reachable at {server.base_url}"
            )
        except TimeoutError:
            reason = f"No Jupyter server reachable at {server.base_url}"
        else:
            await client.start()
            return Backend(client, server.base_url)
    log.info("%s: StudyMate runs in this kernel", reason)
    local = LocalClient(root_dir or os.getcwd(), chat_id=client.chat_id, **local_traits)
    await local.start()
    return Backend(local, None, reason)
