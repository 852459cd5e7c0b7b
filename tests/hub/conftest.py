"""One real JupyterHub for the hub tests: an instructor and two students, one PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hub_process import USERS, HubProcess

from studymate_jupyter.postgres_cluster import PostgresCluster


@pytest.fixture(scope="session")
def course_hub(
    tmp_path_factory: pytest.TempPathFactory, postgres_cluster: PostgresCluster
) -> Iterator[HubProcess]:
    """A started hub with every user's server running, on a database of its own in the
    session's PostgreSQL cluster. Stopped by its PID after the session's hub tests, which
    fail if a server or the proxy outlives it. Without configurable-http-proxy they are
    skipped, except in CI, where they must run."""
    database = postgres_cluster.create_database()
    hub = HubProcess(tmp_path_factory.mktemp("hub"), database.render_as_string(hide_password=False))
    try:
        hub.start()
    except LookupError as exc:
        postgres_cluster.drop_database(database)
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc} (CI must run the JupyterHub tests)")
        pytest.skip(str(exc))
    try:
        hub.start_servers(USERS)
        yield hub
    finally:
        hub.stop()
        left = hub.leftovers()
        hub.kill_leftovers(left)
        postgres_cluster.drop_database(database)
    assert not left, f"processes left running after the hub stopped: {left}"


@pytest.fixture
def hub(course_hub: HubProcess, jp_asyncio_loop: Any) -> Iterator[HubProcess]:
    """The session's hub, for one test: its WebSockets are closed after it, while its loop
    (pytest-jupyter's, one per test) still runs."""
    try:
        yield course_hub
    finally:
        course_hub.close_clients()
