"""Fetch the evaluation manuals from Debian packages into bench/.cache (never committed).

Usage: python bench/eval/fetch.py [--large]   (needs apt-get and dpkg-deb; `apt-get update` once)

`--large` also fetches the large PDF of the benchmark's ingestion figure (`fetch_large`), which
is not part of the evaluation set.
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
# A real PDF of a few thousand pages, for the ingestion figure of `python -m bench` only (the
# retrieval evaluation never reads it): R 4.2.2's reference index (its base packages),
# 2,415 pages as pypdf counts them, 6.5 MB, from bookworm's r-doc-pdf (a 9.8 MB download).
LARGE = {
    "name": "fullrefman.pdf",
    "package": "r-doc-pdf",
    "version": "4.2.2.20221110-2",
    "member": "usr/share/R/doc/manual/fullrefman.pdf",
    "sha256": "89150a81fb3d3a11223c3e184f38c92adf3e77067aee3661086cf3582cf9dce2",
}


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


def _fetch_one(name: str, spec: dict[str, str], cache: Path, mismatch: str) -> Path:
    """`spec["member"]` of the package, as `cache / name`, unless it is there already."""
    target = cache / name
    if not (target.exists() and sha256(target) == spec["sha256"]):
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            deb = _download(spec["package"], spec["version"], Path(tmp))
            extracted = Path(tmp) / "root"
            subprocess.run(["dpkg-deb", "-x", str(deb), str(extracted)], check=True)
            shutil.copyfile(extracted / spec["member"], target)
        if sha256(target) != spec["sha256"]:
            print(f"warning: {name} {mismatch}", file=sys.stderr)
    return target


def fetch(cache: Path = CACHE) -> dict[str, Path]:
    """Make sure every manual named in questions.json is in `cache`; return name -> path."""
    documents = json.loads(QUESTIONS.read_text())["documents"]
    cache.mkdir(parents=True, exist_ok=True)
    mismatch = (
        "differs from the version the questions were written against; page numbers may not match"
    )
    return {name: _fetch_one(name, spec, cache, mismatch) for name, spec in documents.items()}


def fetch_large(cache: Path = CACHE) -> Path:
    """Make sure the large PDF of the ingestion figure (`LARGE`) is in `cache`; its path."""
    cache.mkdir(parents=True, exist_ok=True)
    mismatch = "differs from the pinned version; its page count may differ"
    return _fetch_one(LARGE["name"], LARGE, cache, mismatch)


if __name__ == "__main__":
    paths = fetch()
    if "--large" in sys.argv[1:]:
        paths[LARGE["name"]] = fetch_large()
    for name, path in paths.items():
        print(f"{name}: {path}")
