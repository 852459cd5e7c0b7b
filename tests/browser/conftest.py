"""Fixtures for the browser tests: a real `jupyter lab` subprocess and a headless Debian
Chromium page on it, one of each per test module (a module overrides `lab_extra_args`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from labpage import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HERE,
    LAB_OVERRIDES,
    PAGE_ERRORS,
    WAIT,
    require_chromium,
    sync_api,
)

from studymate_jupyter.pytest_plugin import ServerProcess


# pytest-jupyter's autouse fixtures are for in-process servers; these tests run JupyterLab
# as a subprocess, and Playwright's sync API runs its own asyncio loop on this thread, which
# pytest-jupyter's per-test loop fixture would pick up and try to close. Turn both off here.
@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    return None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    return None


@pytest.fixture(scope="module")
def lab_extra_args() -> list[str]:
    """Extra command-line arguments of the module's `jupyter lab` (override per module)."""
    return []


@pytest.fixture(scope="module")
def lab_overrides() -> dict[str, Any]:
    """JupyterLab's settings overrides for the module (override per module: a theme, say)."""
    return LAB_OVERRIDES


@pytest.fixture(scope="module")
def lab(
    tmp_path_factory: pytest.TempPathFactory,
    lab_extra_args: list[str],
    lab_overrides: dict[str, Any],
) -> Iterator[ServerProcess]:
    """`jupyter lab` with StudyMate on a free port, a token, and a temporary root and store."""
    require_chromium()
    workdir = tmp_path_factory.mktemp("lab")
    settings_dir = workdir / "lab-settings"
    settings_dir.mkdir()
    (settings_dir / "overrides.json").write_text(json.dumps(lab_overrides))
    server = ServerProcess(
        workdir,
        app="lab",
        extra_args=[f"--LabApp.app_settings_dir={settings_dir}", *lab_extra_args],
    )
    with pytest.MonkeyPatch.context() as mp:
        # The server can import test assistants from this folder, and the parts of
        # tests/custom_parts.py (a retriever with a notice, say) from the one above.
        folders = [str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH")]
        path = os.pathsep.join(filter(None, folders))
        mp.setenv("PYTHONPATH", path)
        server.start(timeout=90)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def page(lab: ServerProcess) -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(WAIT)
        page.goto(f"{lab.url}lab?token={lab.token}")
        page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
        # JupyterLab itself reports a lost server in a dialog, whenever its own polling
        # notices: close it as a user would, whenever it gets in the way.
        lost = page.locator(".jp-Dialog", has_text="Server Connection Error")
        page.add_locator_handler(
            lost, lambda dialog: dialog.get_by_role("button", name="Close").click()
        )
        PAGE_ERRORS[:] = []
        page.on("pageerror", lambda exc: PAGE_ERRORS.append(f"{exc}\n{exc.stack}"))
        try:
            yield page
        finally:
            context.close()
            browser.close()
