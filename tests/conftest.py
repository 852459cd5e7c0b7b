from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import pytest
from postgres_cluster import PostgresCluster, start_cluster
from sqlalchemy.engine import URL

pytest_plugins = ["pytest_jupyter.jupyter_server", "studymate_jupyter.pytest_plugin"]

# The default install has no torch (a test checks it); the optional torch encoder is tested
# where torch is installed, as .ci/run's own step does.
if importlib.util.find_spec("torch") is None:
    collect_ignore = ["library/test_torch_encoder.py"]


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the whole session, removed after it. Without
    PostgreSQL its tests are skipped, except in CI, where they must run."""
    try:
        cluster = start_cluster()
    except LookupError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc} (CI must run the PostgreSQL tests)")
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> Iterator[URL]:
    """A fresh, empty database of its own for this test, dropped after it."""
    url = postgres_cluster.create_database()
    try:
        yield url
    finally:
        postgres_cluster.drop_database(url)
