"""Parse files in a child process with a time and memory limit, so hostile files cannot
hang or exhaust the server."""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from typing import TYPE_CHECKING

from ..passages import ParsedDocument
from .errors import IngestError
from .parsers import check_size, kind_for, parse_file

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from pathlib import Path

DEFAULT_MAX_BYTES = 100 * 2**20
DEFAULT_TIMEOUT = 300.0
DEFAULT_MAX_MEMORY = 2 * 2**30

_Result = tuple[str, "ParsedDocument | str"]


def _context() -> multiprocessing.context.BaseContext:
    # Never "fork": forking a threaded Tornado server copies its locks mid-use. The fork
    # server is a clean, single-threaded parent that forks children cheaply; spawn elsewhere.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _limit_memory(max_memory: int) -> None:
    try:
        import resource
    except ImportError:  # Windows has no rlimits; the timeout still applies
        return
    # If the hard limit is lower already (a container), setting fails: keep it, it is stricter.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))


def _child(path: Path, max_bytes: int, max_memory: int, conn: Connection) -> None:
    """Runs in the child: parse, send ("ok", document) or ("error", reason)."""
    _limit_memory(max_memory)
    result: _Result
    try:
        result = ("ok", parse_file(path, max_bytes=max_bytes))
    except IngestError as error:
        result = ("error", error.reason)
    except MemoryError:
        result = ("error", f"file needs too much memory to parse (over {max_memory // 2**20} MB)")
    except Exception:
        # The reason goes to a person: no traceback, no path.
        result = ("error", "file could not be parsed")
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("error", "parsed text too large to return"))
    finally:
        conn.close()


def parse_document(
    path: Path, *, max_bytes: int, timeout: float, max_memory: int
) -> ParsedDocument:
    """Parse `path` in a child process; IngestError on bad files, timeout or memory blow-up."""
    kind_for(path)  # unsupported types fail here, without starting a process
    try:
        check_size(path.stat().st_size, max_bytes)
    except OSError:
        raise IngestError("file could not be read") from None
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(  # type: ignore[attr-defined]
        target=_child, args=(path, max_bytes, max_memory, sender), daemon=True
    )
    try:
        process.start()
        sender.close()  # the child holds its copy; EOF now means the child is gone
        try:
            if not receiver.poll(timeout):
                raise IngestError(f"parsing took too long (over {timeout:g} s)")
            status, payload = receiver.recv()
        except (EOFError, OSError):
            raise IngestError(
                f"parser crashed or ran out of memory (limit {max_memory // 2**20} MB)"
            ) from None
    finally:
        receiver.close()
        if process.pid is not None:  # it may have failed to start
            if process.is_alive():
                process.kill()
            process.join(5)
            process.close()
    if status != "ok" or not isinstance(payload, ParsedDocument):
        raise IngestError(str(payload))
    return payload
