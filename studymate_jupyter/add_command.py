"""`studymate add PATH…`: add files, folders or globs to the library, with a progress bar.

With a running server (found as the Python client finds it) the files go through its REST API,
so every connected client sees the progress; without one, through the same API in this process
(the client's in-process implementation, over the same services), on the same database.

Two steps are shown: indexing (then a file is searchable by its words), and, where the
retriever uses vectors, computing them in the background. Ctrl-C during the second stops
only the waiting: a server goes on computing them.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tqdm import tqdm

from .library.parsers import SUPPORTED_SUFFIXES

if TYPE_CHECKING:
    from .client.api import StudyMateApi
    from .client.rest import RestClient
    from .protocol import Document, LibraryName

POLL_SECONDS = 0.25
TERMINAL = ("ready", "failed")
#: The vector step is over: done, not used by the retriever, or given up.
VECTORS_DONE = ("ready", "off", "failed")
#: Where the vectors are computed: in a running server, or in this process.
Where = Literal["server", "here"]
Poll = Callable[[], Awaitable[list["Document"]]]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "add",
        help="add files, folders or globs to the StudyMate library",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", help="files, folders (searched recursively), globs")
    parser.add_argument("--url", help="the Jupyter server (default: discover the running one)")
    parser.add_argument("--token", help="its token (default: STUDYMATE_TOKEN / JUPYTER_TOKEN)")
    parser.add_argument(
        "--local",
        action="store_true",
        help="index in this process even if a server runs (it must share the database)",
    )
    parser.add_argument(
        "--course",
        action="store_true",
        help="into the course library, which every student reads (instructors only)",
    )
    parser.add_argument(
        "--root", default=".", help="the server root the paths are relative to (default: .)"
    )
    parser.set_defaults(handler=lambda args: asyncio.run(add(args)))


def expand(patterns: list[str]) -> list[Path]:
    """Files named by paths, folders (recursively) and globs, supported and not hidden."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        matches = glob.glob(pattern, recursive=True) if glob.has_magic(pattern) else [pattern]
        for match in map(Path, matches):
            candidates = sorted(match.rglob("*")) if match.is_dir() else [match]
            for path in candidates:
                hidden = any(part.startswith(".") for part in path.parts if part not in (".", ".."))
                if path.suffix.lower() in SUPPORTED_SUFFIXES and not hidden:
                    found[path] = None
            if not match.exists():
                found[match] = None  # let the server say it is missing
    return list(found)


def relative_to_root(path: Path, root: Path) -> str:
    absolute = path.absolute()
    try:
        return absolute.relative_to(root.absolute()).as_posix()
    except ValueError:
        return path.as_posix()  # outside the root: the server refuses it with its reason


async def add(args: argparse.Namespace) -> int:
    paths = expand(args.paths)
    if not paths:
        print("studymate add: no supported files (.pdf .md .txt .ipynb …) found", file=sys.stderr)
        return 2
    library: LibraryName = "course" if args.course else "personal"
    if not args.local:
        remote = await _find_server(args)
        if remote is not None:
            rest, root = remote
            relative = [relative_to_root(p, root) for p in paths]
            return await _add_all(rest, relative, "server", library)
    from .client.local import InProcessApi, LocalServer

    root = Path(args.root)
    server = LocalServer(root)
    try:
        return await _add_all(
            InProcessApi(server), [relative_to_root(p, root) for p in paths], "here", library
        )
    finally:
        await server.close()


async def _find_server(args: argparse.Namespace) -> tuple[RestClient, Path] | None:
    from .client.discovery import ServerNotFound, resolve_server
    from .client.errors import StudyMateError
    from .client.rest import RestClient

    try:
        server = await resolve_server(args.url, args.token)
        rest = RestClient(server)
        await rest.me()
    except (ServerNotFound, StudyMateError, ValueError):
        if args.url:
            raise
        return None
    return rest, _server_root(server.base_url, Path(args.root))


def _server_root(base_url: str, default: Path) -> Path:
    from jupyter_server.serverapp import list_running_servers

    for info in list_running_servers():
        if str(info.get("url", "")).rstrip("/") == base_url.rstrip("/"):
            return Path(str(info.get("root_dir") or default))
    return default


async def _add_all(api: StudyMateApi, paths: list[str], where: Where, library: LibraryName) -> int:
    """Add ``paths`` through the server's REST API or in-process, then follow them."""
    from .client.errors import StudyMateError

    ids: set[str] = set()
    refused: dict[str, str] = {}
    for path in paths:
        try:
            ids.add((await api.add_document(path, library))["id"])
        except StudyMateError as exc:
            refused[path] = exc.message

    async def poll() -> list[Document]:
        return [d for d in await api.list_documents() if d["id"] in ids]

    return await _follow(poll, len(paths), refused, where)


async def _follow(poll: Poll, total: int, refused: dict[str, str], where: Where = "server") -> int:
    """Show progress until every accepted document is ready or failed, then their vector
    step; report failures."""
    bar = tqdm(total=total, unit="file", desc="indexing", disable=None)
    bar.update(len(refused))
    done: set[str] = set()
    while True:
        documents: list[Document] = await poll()
        for document in documents:
            if document["status"] in TERMINAL and document["id"] not in done:
                done.add(document["id"])
                bar.update(1)
                bar.set_postfix_str(document["filename"], refresh=False)
        if len(done) == len(documents):
            break
        await asyncio.sleep(POLL_SECONDS)
    bar.close()
    documents = await _follow_vectors(poll, documents, where)
    failed = {d["path"]: d["error"] or "failed" for d in documents if d["status"] == "failed"}
    ready = [d for d in documents if d["status"] == "ready"]
    for document in ready:
        course = ", course library" if document.get("library") == "course" else ""
        print(
            f"ready   {document['path']} ({document['pages']} pages, "
            f"{document['chunks']} passages{course})"
        )
    for path, reason in {**refused, **failed}.items():
        print(f"failed  {path}: {reason}", file=sys.stderr)
    for document in ready:
        if document["vectors"] == "failed":
            # Still a success: the document is in the library, found by its words.
            print(
                f"vectors failed  {document['path']}: it is searchable by its words only",
                file=sys.stderr,
            )
    return 0 if not refused and not failed else 1


def _vectors_done(documents: list[Document]) -> float:
    """How many documents' vector steps are over, counting a pending one by its progress."""
    return sum(
        1.0 if d["vectors"] in VECTORS_DONE else max(0.0, min(1.0, d["vectors_progress"]))
        for d in documents
    )


async def _follow_vectors(poll: Poll, documents: list[Document], where: Where) -> list[Document]:
    """The second step: wait until every indexed document's vectors are ready, off or
    failed, with a bar of their progress. Returns the documents as they are then."""
    waiting = {d["id"] for d in documents if d["status"] == "ready"}
    if all(d["vectors"] in VECTORS_DONE for d in documents if d["id"] in waiting):
        return documents
    if where == "server":
        note = (
            "vectors: computed by the server in the background; the files are searchable by "
            "their words already. Ctrl-C stops waiting, not the server."
        )
    else:
        note = (
            "vectors: computed in this process; the files are searchable by their words "
            "already. Ctrl-C stops here and leaves the vectors unfinished."
        )
    print(note, file=sys.stderr)
    bar = tqdm(total=len(waiting), unit="file", desc="vectors", disable=None)
    try:
        while True:
            current = [d for d in documents if d["id"] in waiting]
            bar.n = round(_vectors_done(current), 2)
            bar.refresh()
            if all(d["vectors"] in VECTORS_DONE for d in current):
                return documents
            await asyncio.sleep(POLL_SECONDS)
            documents = await poll()
    except (asyncio.CancelledError, KeyboardInterrupt):
        pending = sum(1 for d in documents if d["id"] in waiting and d["vectors"] == "pending")
        if where == "server":
            said = f"the server goes on computing the vectors of {pending} file(s)"
        else:
            said = f"the vectors of {pending} file(s) are left unfinished"
        print(f"\nstopped waiting: {said}; they are searchable by their words.", file=sys.stderr)
        raise
    finally:
        bar.close()
