"""The store's schema, as Alembic revisions both backends run (`versions/`), applied at start.

Revision ids are schema version numbers as strings ("7", "8", ...), continuing the versions
StudyMate counted before Alembic (`studymate_schema`, whose frozen steps `store/migrations.py`
keeps as revision 7's path on SQLite). No alembic.ini: the revisions run programmatically from
the installed package, inside the transaction that opens the database.

A release from before Alembic reads only that ledger: a revision that changes the SQLite schema
in a way it cannot read should also insert its number there, so that release refuses the file.
"""

from __future__ import annotations

from pathlib import Path

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, inspect, text

# Not Alembic's default `alembic_version`: a hub deployment may point StudyMate at the database
# JupyterHub already keeps its own Alembic history in.
VERSION_TABLE = "studymate_alembic_version"
LEDGER = "studymate_schema"  # the version table before Alembic

SCRIPTS = ScriptDirectory(str(Path(__file__).parent))
_head = SCRIPTS.get_current_head()
assert _head is not None  # the package always ships its revisions
HEAD: str = _head


class NewerSchema(Exception):
    """The database was written by a StudyMate newer than this one; the message says how."""


def revision_of(conn: Connection) -> str | None:
    """The Alembic revision the database is at (None: not one Alembic has stamped)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return MigrationContext.configure(
        conn, opts={"version_table": VERSION_TABLE}
    ).get_current_revision()


def ledger_version(conn: Connection) -> int | None:
    """The newest version in the pre-Alembic ledger (None: the database has none)."""
    if not inspect(conn).has_table(LEDGER):
        return None
    version = conn.execute(text(f"SELECT max(version) FROM {LEDGER}")).scalar()
    return None if version is None else int(version)


def check(conn: Connection) -> None:
    """Raise NewerSchema for a database this code must not touch: a revision it does not know,
    or a ledger past its head (a release from before Alembic never writes one)."""
    revision = revision_of(conn)
    if revision is not None:
        try:
            SCRIPTS.get_revision(revision)
        except CommandError:
            raise NewerSchema(f"schema version {revision}; this one knows up to {HEAD}") from None
    ledger = ledger_version(conn)
    if ledger is not None and ledger > int(HEAD):
        raise NewerSchema(f"schema version {ledger}; this one knows up to {HEAD}")


def upgrade(conn: Connection) -> str:
    """Run every revision the database lacks, in `conn`'s transaction; return the head."""
    if conn.dialect.name == "postgresql":
        # Many servers of one course may start at once on one database: one migrates, the
        # others wait here and then find nothing to do. Released when the transaction ends.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('studymate schema'))"))
    check(conn)
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    current = context.get_current_revision()
    missing = list(SCRIPTS.iterate_revisions(HEAD, current))  # newest first
    with Operations.context(context):
        for script in reversed(missing):
            script.module.upgrade()
            context.stamp(SCRIPTS, script.revision)
    return HEAD
