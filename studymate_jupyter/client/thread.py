"""Running a client on its own event loop in a daemon thread, for synchronous callers
(the notebook widget, scripts) that must not touch the caller's loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .client import StudyMateClient

T = TypeVar("T")


class ClientThread:
    """A :class:`StudyMateClient` living on a private loop in a daemon thread.

    ``submit`` and ``call`` run coroutines on that loop from any thread; the client's
    signals call their observers on that thread (marshal to your own thread if needed).
    """

    def __init__(
        self,
        factory: Callable[[], StudyMateClient] | None = None,
        *,
        name: str = "studymate-client",
        **client_kwargs: Any,
    ) -> None:
        """``factory`` builds the client (inside the thread, as tornado's clients bind to
        the loop that creates them); without one, ``StudyMateClient(**client_kwargs)``."""
        self._factory = factory or (lambda: StudyMateClient(**client_kwargs))
        self.loop = asyncio.new_event_loop()
        self._client: StudyMateClient | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    @property
    def client(self) -> StudyMateClient:
        assert self._client is not None
        return self._client

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self._client = self.loop.run_until_complete(self._build())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            self.loop.close()
            return
        self._ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _build(self) -> StudyMateClient:
        return self._factory()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the client's loop; returns a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the client's loop and wait for its result (never call this from
        the client's own thread, e.g. inside an observer: it would deadlock)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("call() from the client thread would deadlock; use submit()")
        return self.submit(coro).result(timeout)

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        """Run a plain function on the client's loop (e.g. ``client.post``)."""
        self.loop.call_soon_threadsafe(callback, *args)

    def stop(self, timeout: float | None = 10.0) -> None:
        """Close the client and end the thread."""
        if not self.alive:
            return
        try:
            self.call(self.client.close(), timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)

    def __enter__(self) -> ClientThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
