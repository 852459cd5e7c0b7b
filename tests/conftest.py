from __future__ import annotations

import importlib.util

pytest_plugins = ["pytest_jupyter.jupyter_server", "studymate_jupyter.pytest_plugin"]

# The default install has no torch (a test checks it); the optional torch encoder is tested
# where torch is installed, as .ci/run's own step does.
if importlib.util.find_spec("torch") is None:
    collect_ignore = ["library/test_torch_encoder.py"]
