"""Fetch the evaluation manuals from Debian packages into bench/.cache (never committed).

Usage: python bench/eval/fetch.py   (needs apt-get and dpkg-deb; run `apt-get update` once)
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / ".cache"
QUESTIONS = HERE / "questions.json"


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(package: str, version: str, into: Path) -> Path:
    # The pinned version first: page numbers in questions.json belong to that exact PDF.
    for spec in (f"{package}={version}", package):
        result = subprocess.run(
            ["apt-get", "download", spec], cwd=into, capture_output=True, text=True, check=False
        )
        debs = sorted(into.glob(f"{package}_*.deb"))
        if result.returncode == 0 and debs:
            return debs[-1]
        print(f"apt-get download {spec} failed: {result.stderr.strip()}", file=sys.stderr)
    raise SystemExit(f"could not download {package}; run `apt-get update` first")


def fetch(cache: Path = CACHE) -> dict[str, Path]:
    """Make sure every manual named in questions.json is in `cache`; return name -> path."""
    documents = json.loads(QUESTIONS.read_text())["documents"]
    cache.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, spec in documents.items():
        target = cache / name
        if not (target.exists() and sha256(target) == spec["sha256"]):
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                deb = _download(spec["package"], spec["version"], Path(tmp))
                extracted = Path(tmp) / "root"
                subprocess.run(["dpkg-deb", "-x", str(deb), str(extracted)], check=True)
                shutil.copyfile(extracted / spec["member"], target)
            if sha256(target) != spec["sha256"]:
                print(
                    f"warning: {name} differs from the version the questions were written "
                    "against; page numbers may not match",
                    file=sys.stderr,
                )
        paths[name] = target
    return paths


if __name__ == "__main__":
    for name, path in fetch().items():
        print(f"{name}: {path}")
