"""The panel's TypeScript compiles against the protocol's generated types and its unit tests
pass: a field renamed or added in Python (and regenerated into labextension/protocol.schema.json,
which tests/test_protocol_schema.py demands) fails here until the panel follows."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

LABEXTENSION = Path(__file__).resolve().parent.parent / "labextension"


def require_node_modules() -> str:
    """npm, with the panel's dependencies installed (`pip install -e .` installs them)."""
    npm = shutil.which("npm")
    if npm and (LABEXTENSION / "node_modules" / ".bin" / "tsc").exists():
        return npm
    if os.environ.get("CI"):
        pytest.fail("npm or labextension/node_modules is missing: CI installs both")
    pytest.skip("install Node.js and run `npm install` in labextension/")


@pytest.mark.parametrize(
    "script",
    ["typecheck", "test"],
    ids=["the-panel-typechecks-against-the-protocol", "the-panels-unit-tests-pass"],
)
def test_the_panel(script: str) -> None:
    npm = require_node_modules()
    done = subprocess.run(
        [npm, "run", "--silent", script],
        cwd=LABEXTENSION,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-4000:]
