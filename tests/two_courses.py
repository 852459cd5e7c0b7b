"""A library of two courses in two folders, and a question whose words match both, for the
tests of limiting a chat to part of the library from the clients."""

from __future__ import annotations

from pathlib import Path

FILES = {
    "algebra/eigen.md": "# Eigenvalues\n\n"
    + "An eigenvalue of a square matrix scales its eigenvector; the speed of computing "
    "eigenvalues grows with the size of the matrix. " * 4,
    "physics/light.md": "# Light\n\n"
    + "Light travels at a finite speed in a vacuum, and its speed is lower in glass. " * 4,
}
#: Its words match both files.
QUESTION = "What about the speed of light and of eigenvalues?"


def write_files(root: Path) -> None:
    """Put FILES under `root` (not yet added to the library)."""
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
