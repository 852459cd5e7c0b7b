"""Open a checked file so that what is read is what was checked: each part of its path is
opened from the root's own descriptor without following symlinks, so a symlink swapped in
after the check (time of check to time of use) cannot lead the read out of the root."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from typing import TYPE_CHECKING

from .errors import IngestError

if TYPE_CHECKING:
    from pathlib import Path

# Everywhere but Windows: open relative to a directory descriptor, and refuse a symlink.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_WALKS = bool(_NOFOLLOW) and os.open in os.supports_dir_fd
# Never block on a FIFO swapped in for the file, never make a terminal ours.
_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


class FileReplaced(IngestError):
    """The checked path now leads elsewhere (a symlink or another kind of file in its place)."""

    def __init__(self) -> None:
        super().__init__("the file was replaced while it was being added; add it again")


class FileGone(IngestError):
    """The checked file was deleted or moved since."""

    def __init__(self) -> None:
        super().__init__("the file is gone")


def open_checked(root: Path, real: Path) -> int:
    """A read-only descriptor of the regular file `real`, a resolved path inside `root` (as
    LibraryService.resolve returns it). FileReplaced if a symlink or something other than a
    regular file is met on the way now; FileGone if it is not there; IngestError if it cannot
    be read."""
    try:
        fd = _walk(root, real) if _WALKS else _open_and_compare(real)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise FileReplaced from None  # a symlink where resolve() saw a file or folder
        if error.errno == errno.ENOENT:
            raise FileGone from None
        raise IngestError("file could not be read") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileReplaced
    except BaseException:
        os.close(fd)
        raise
    return fd


def _walk(root: Path, real: Path) -> int:
    # The root is the server's own (resolved once); everything below it is the user's.
    parts = real.relative_to(root).parts
    directory = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        for part in parts[:-1]:
            below = os.open(part, _FLAGS | getattr(os, "O_DIRECTORY", 0), dir_fd=directory)
            os.close(directory)
            directory = below
        return os.open(parts[-1], _FLAGS, dir_fd=directory)
    finally:
        os.close(directory)


def _open_and_compare(real: Path) -> int:
    # Without descriptor-relative opens: open by name, then make sure it is the file the name
    # leads to without following a link (a swapped-in link is a different file).
    fd = os.open(real, _FLAGS | _BINARY)
    with contextlib.suppress(OSError):
        if os.path.samestat(os.fstat(fd), os.lstat(real)):
            return fd
    os.close(fd)
    raise FileReplaced
