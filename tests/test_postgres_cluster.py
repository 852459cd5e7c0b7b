"""The throwaway PostgreSQL cluster the server suite runs on: not root, local only, one empty
database per test."""

from __future__ import annotations

import os
import pwd

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from studymate_jupyter.postgres_cluster import PostgresCluster


def test_the_cluster_runs_as_an_ordinary_user_on_the_loopback_address(
    postgres_cluster: PostgresCluster, postgres_url: URL
) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            listen = conn.execute(text("SHOW listen_addresses")).scalar()
            data = conn.execute(text("SHOW data_directory")).scalar()
    finally:
        engine.dispose()
    assert listen == "127.0.0.1"
    assert data == str(postgres_cluster.data)
    pid = int((postgres_cluster.data / "postmaster.pid").read_text().split()[0])
    with open(f"/proc/{pid}/status") as status:
        uid = next(int(line.split()[1]) for line in status if line.startswith("Uid:"))
    assert uid != 0
    if os.geteuid() == 0:
        assert pwd.getpwuid(uid).pw_name == "postgres"


def test_each_test_gets_an_empty_database_of_its_own(
    postgres_cluster: PostgresCluster, postgres_url: URL
) -> None:
    other = postgres_cluster.create_database()
    engines = [create_engine(postgres_url), create_engine(other)]
    try:
        with engines[0].begin() as conn:
            conn.execute(text("CREATE TABLE only_here (x INTEGER)"))
        with engines[1].connect() as conn:
            tables = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar()
        assert tables == 0
    finally:
        for engine in engines:
            engine.dispose()
        postgres_cluster.drop_database(other)


def test_the_cluster_refuses_a_wrong_password(
    postgres_cluster: PostgresCluster, postgres_url: URL
) -> None:
    engine = create_engine(postgres_cluster.url(str(postgres_url.database), password="wrong"))
    try:
        with pytest.raises(OperationalError, match="password authentication failed"):
            engine.connect()
    finally:
        engine.dispose()
