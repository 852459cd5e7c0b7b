"""A throwaway PostgreSQL cluster for the tests and the benchmarks: initdb and pg_ctl into a
temporary folder, on 127.0.0.1 and a free port, as the `postgres` user when run as root
(PostgreSQL refuses to run as root), stopped by pg_ctl and deleted after."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL

if TYPE_CHECKING:
    import psycopg

INSTALL_HINT = "PostgreSQL is not installed: apt-get install postgresql"
# fsync off: the tests kill servers, never the cluster's machine, and it is much faster on a
# shared disk.
FOR_TESTS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}
# PostgreSQL's own durability (fsync, synchronous_commit as shipped), for figures of commits.
DURABLE = {"max_connections": "400", "shared_buffers": "256MB"}


def connect_database(url: URL) -> psycopg.Connection[Any]:
    """An autocommit psycopg connection to the database of a SQLAlchemy URL, as a test reads
    or changes it beside the servers."""
    import psycopg  # the test extra's; imported here so SQLite-only runs never need it

    return psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        autocommit=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: pg_config's answer, else Debian's newest."""
    if shutil.which("pg_config"):
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        )
        candidate = Path(found.stdout.strip())
        if found.returncode == 0 and (candidate / "initdb").exists():
            return candidate
    # Debian puts the server's binaries outside PATH, one folder per major version.
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(versions[-1]).parent if versions else None


class PostgresCluster:
    """One cluster with one password-protected superuser; `create_database` gives each test
    its own empty database (a copy of template1, which takes milliseconds)."""

    user = "studymate"

    def __init__(self, bindir: Path, settings: Mapping[str, str] = FOR_TESTS) -> None:
        self.bindir = bindir
        self.settings = settings
        self.port = free_port()
        # Not under pytest's tmp_path: its folders are private to root, and the server process
        # runs as `postgres`, which must reach its data folder.
        self.folder = Path(tempfile.mkdtemp(prefix="studymate-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.password = uuid.uuid4().hex
        # As root, the cluster is the `postgres` user's; otherwise the caller's own.
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.running = False

    def _run(self, args: Sequence[str]) -> None:
        done = subprocess.run(
            [*self._as, *args], capture_output=True, text=True, check=False, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def init(self) -> None:
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as:
            owner = pwd.getpwnam("postgres")
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        try:
            self._run(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    self.user,
                    f"--pwfile={pwfile}",
                    # A password over TCP, so the tests see the URL carry one (and never log it).
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            )
        finally:
            pwfile.unlink()

    def start(self) -> None:
        # The socket stays in the cluster's folder, not /var/run/postgresql.
        options = " ".join(
            [
                f"-p {self.port} -h 127.0.0.1 -k {self.folder}",
                *(f"-c {name}={value}" for name, value in self.settings.items()),
            ]
        )
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (pg_ctl finds it by the PID in its data folder)."""
        if self.running:
            self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])
            self.running = False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres", *, password: str | None = None) -> URL:
        return URL.create(
            "postgresql+psycopg",
            username=self.user,
            password=self.password if password is None else password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        )

    def create_database(self) -> URL:
        """A new empty database; its URL (with the password: render it with
        `render_as_string(hide_password=False)` to hand it to a server)."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: URL) -> None:
        if self.running:
            # FORCE: a server stopped by the test may leave a connection closing.
            self.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')

    def execute(self, statement: str) -> None:
        with connect_database(self.url()) as conn:
            conn.execute(statement)


def start_or_skip() -> PostgresCluster:
    """A started cluster; without PostgreSQL the test is skipped, except in CI (CI=true),
    where the PostgreSQL tests must run and fail instead."""
    import pytest

    try:
        return start_cluster()
    except LookupError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc} (CI must run the PostgreSQL tests)")
        pytest.skip(str(exc))


def start_cluster(settings: Mapping[str, str] = FOR_TESTS) -> PostgresCluster:
    """Initialize and start a cluster, or raise LookupError(INSTALL_HINT) without PostgreSQL."""
    bindir = postgres_bindir()
    if bindir is None:
        raise LookupError(INSTALL_HINT)
    cluster = PostgresCluster(bindir, settings)
    try:
        cluster.init()
        cluster.start()
    except BaseException:
        cluster.remove()
        raise
    return cluster
