"""Core statements the chat path runs on every message, compiled once and run on SQLite's own
connection.

A user message, its reply's start and its end are three write jobs per message, and through
SQLAlchemy's execution path each statement cost about 60 µs of Python around 10 µs of SQLite
(a user message's job: 290 µs, of which SQLite's execute and commit took 115). On the single
writer thread that Python work is what bounds acknowledgements under load and most of a
message's time after idle. A Prepared statement is still written in Core, once, for both
backends: on SQLite it runs as the SQL string SQLAlchemy compiled for it, on the connection of
the job's own transaction, so nothing about the transaction changes; on PostgreSQL it runs
through SQLAlchemy as before (its errors, savepoints and pooled connections stay SQLAlchemy's).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Select, Update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Ran:
    """What a statement returned: its rows as plain tuples, and how many rows it changed."""

    rows: list[tuple[Any, ...]]
    rowcount: int

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class Prepared:
    """One Core statement with named parameters, run by `session`'s connection."""

    def __init__(self, statement: Select[*tuple[Any, ...]] | Insert | Update) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=sqlite.dialect())
        # An expanding IN (...) is rendered per execution: it cannot be compiled once.
        assert "POSTCOMPILE" not in compiled.string, compiled.string
        self.sqlite_sql = compiled.string
        self.names: Sequence[str] = tuple(compiled.positiontup or ())
        # Literals in the statement (`count + 1`, LIMIT 1) are parameters with their value.
        self.literals = {
            name: bind.value for name, bind in compiled.binds.items() if not bind.required
        }

    def run(self, session: Session, params: Mapping[str, Any]) -> Ran:
        connection = session.connection()
        if connection.dialect.name != "sqlite":
            result = connection.execute(self.statement, dict(params))
            rows = [tuple(row) for row in result] if result.returns_rows else []
            return Ran(rows, result.rowcount)
        # The driver's connection, in the transaction the session began on it (IMMEDIATE for
        # writes): the same connection SQLAlchemy would have run the statement on.
        driver: sqlite3.Connection = connection.connection.driver_connection  # type: ignore[assignment]
        values = [
            self.literals[name] if name in self.literals else params[name] for name in self.names
        ]
        try:
            cursor = driver.execute(self.sqlite_sql, values)
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            # Raised as SQLAlchemy raises it, so callers tell "locked" or "full" from a bug the
            # same way on either path (Database.write answers those with "unavailable").
            raise DBAPIError.instance(self.sqlite_sql, values, exc, sqlite3.Error) from exc
        return Ran(rows, cursor.rowcount)
