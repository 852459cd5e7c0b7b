from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from studymate_jupyter.postgres_cluster import PostgresCluster, start_or_skip

pytest_plugins = ["pytest_jupyter.jupyter_server", "studymate_jupyter.pytest_plugin"]

# The default install has no torch (a test checks it); the optional torch encoder is tested
# where torch is installed, as .ci/run's own step does.
if importlib.util.find_spec("torch") is None:
    collect_ignore = ["library/test_torch_encoder.py"]

TESTS = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): checks something only SQLite has (a file, a pragma); not run on "
        "PostgreSQL",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The server suite (tests/test_*.py whose server takes studymate_db_url) runs on both
    backends; the browser, widget, client and library suites in the folders below stay on
    SQLite, to bound CI's time: they test the front ends and ranking, not the store."""
    if "studymate_db_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.path.parent != TESTS:
        return
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        return
    metafunc.parametrize(
        "studymate_db_url",
        [
            pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql"),
        ],
        indirect=True,
    )


@pytest.fixture
def studymate_db_url(request: pytest.FixtureRequest, studymate_db: Path) -> str:
    """The test server's database: the SQLite file, or a fresh PostgreSQL database of its own
    in the session's cluster (the URL carries the password: the server must not show it)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        url: URL = request.getfixturevalue("postgres_url")
        return url.render_as_string(hide_password=False)
    return f"sqlite:///{studymate_db}"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the whole session, removed after it. Without
    PostgreSQL its tests are skipped, except in CI, where they must fail."""
    cluster = start_or_skip()
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
