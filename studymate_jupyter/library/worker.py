"""Parse files in a child process with a time and memory limit, so hostile files cannot
hang or exhaust the server."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from typing import TYPE_CHECKING, Any

from ..passages import ParsedDocument
from .errors import IngestError
from .files import open_checked
from .parsers import check_size, kind_for, parse_open_file

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from pathlib import Path

    from ..passages import DocumentKind

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


class _OpenFile:
    """An open file that goes to the child with the process's arguments: the descriptor
    itself (SCM_RIGHTS, by the fork server or spawn), so the child reads the file the server
    checked and never opens a path, which may lead elsewhere by then."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        from multiprocessing import reduction

        if hasattr(reduction, "DupFd"):
            return _inherit, (reduction.DupFd(self.fd), self.path)
        # Windows passes no descriptors this way: the child opens the name and compares.
        return _reopen, (self.path,)


def _inherit(duplicate: Any, path: Path) -> _OpenFile:
    return _OpenFile(duplicate.detach(), path)


def _reopen(path: Path) -> _OpenFile:
    return _OpenFile(open_checked(path.parent, path), path)


def _child(
    file: _OpenFile, kind: DocumentKind, max_bytes: int, max_memory: int, conn: Connection
) -> None:
    """Runs in the child: parse, send ("ok", document) or ("error", reason)."""
    _limit_memory(max_memory)
    result: _Result
    try:
        with os.fdopen(file.fd, "rb") as handle:
            parsed = parse_open_file(handle, kind, max_bytes=max_bytes)
        check_text_size(parsed, max_bytes)
        result = ("ok", parsed)
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


def check_text_size(parsed: ParsedDocument, max_bytes: int) -> None:
    """IngestError if the text taken from a file is more than a file may be: a PDF's streams
    can inflate far past its size, and the server holds the text it indexes."""
    # Characters, not UTF-8 bytes: counting is cheap, and each is at least one byte.
    total = sum(len(unit.text) + len(unit.heading) + len(unit.keywords) for unit in parsed.units)
    if total > max_bytes:
        raise IngestError(f"too much text to index (over {max_bytes / 2**20:.1f} MB)")


def parse_document(
    path: Path, *, max_bytes: int, timeout: float, max_memory: int
) -> ParsedDocument:
    """Parse `path` in a child process; IngestError on bad files, timeout or memory blow-up."""
    kind = kind_for(path)  # unsupported types fail here, without starting a process
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError:
        raise IngestError("file could not be read") from None
    try:
        return parse_open_document(
            fd, path, kind, max_bytes=max_bytes, timeout=timeout, max_memory=max_memory
        )
    finally:
        os.close(fd)


def parse_open_document(
    fd: int,
    path: Path,
    kind: DocumentKind,
    *,
    max_bytes: int,
    timeout: float,
    max_memory: int,
) -> ParsedDocument:
    """Parse the open file `fd` (of `kind`, opened at `path`) in a child process that reads
    that very file; IngestError on bad files, timeout or memory blow-up. `fd` stays open."""
    try:
        check_size(os.fstat(fd).st_size, max_bytes)
    except OSError:
        raise IngestError("file could not be read") from None
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(  # type: ignore[attr-defined]
        target=_child,
        args=(_OpenFile(fd, path), kind, max_bytes, max_memory, sender),
        daemon=True,
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
