"""What every run needs of the process and the checkout it runs from (bench and the soak)."""

from __future__ import annotations

import resource
import subprocess

from .servers import REPO


def raise_fd_limit() -> int:
    """Many connections need many descriptors: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
        )
        return out.stdout.strip()
    except OSError:
        return ""
