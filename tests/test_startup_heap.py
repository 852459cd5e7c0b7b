"""Once the server is up, what it made while starting is out of the collector's view, so a
full collection under load scans only what came after (StudyMate.freeze_startup_objects)."""

from __future__ import annotations

import asyncio
import gc
import re

import pytest

from studymate_jupyter.pytest_plugin import ServerProcess


async def test_a_server_started_as_a_user_starts_it_freezes_what_its_start_made(tmp_path):
    process = ServerProcess(tmp_path)
    await asyncio.to_thread(process.start)
    try:
        ws = await process.connect()
        await ws.reply_to("is anyone there?")
    finally:
        await asyncio.to_thread(process.stop)
    logged = process.log_path.read_text()
    found = re.search(r"StudyMate: (\d+) objects of the server's start left out", logged)
    assert found, logged[-2000:]
    # A Jupyter server with JupyterLab starts with far more than this many objects.
    assert int(found.group(1)) > 100_000


@pytest.mark.parametrize("studymate_config", [{"freeze_startup_objects": True}])
async def test_an_in_process_server_told_to_freeze_does_so_once_its_event_loop_runs(chat_ws):
    try:
        ws = await chat_ws()
        await ws.reply_to("hello")
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


async def test_servers_sharing_the_test_process_freeze_nothing_by_default(chat_ws):
    ws = await chat_ws()
    await ws.reply_to("hello")
    assert gc.get_freeze_count() == 0
