"""Backups of the database (``flask --app diary backup PATH``, issue 12).

* **SQLite**: a consistent copy through SQLite's online backup API (Python's
  :meth:`sqlite3.Connection.backup`), safe while the app is serving: it copies
  the committed state, the write-ahead log included, page by page, and starts
  over by itself when a write comes in between. The copy is one self-contained
  file (rollback-journal mode, no ``-wal`` beside it), made under a temporary
  name with mode 0600 and renamed into place only when complete.
* **PostgreSQL**: ``pg_dump`` in its custom format (compressed; restored with
  ``pg_restore``), run when it is on the PATH. Its version must be at least the
  server's. The password goes to it in the environment (``PGPASSWORD``), never
  on its command line, where other users of the machine could read it.

Restoring is an operator's step with the app stopped (docs/deploy.md): copy the
file back (SQLite), or ``pg_restore`` into the database (PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

# Pages copied per step of the online backup: between steps other connections
# may write (a step holds a read lock on the source only while it copies).
PAGES_PER_STEP = 1024


class BackupFailed(Exception):
    """The backup could not be made; the message says why, on one line."""


@dataclass(frozen=True)
class Backup:
    """A backup made: where, of which engine, and how many bytes."""

    path: str
    engine: str
    size: int


def backup(url: URL, target: str) -> Backup:
    """Back up the database at ``url`` into the new file ``target``; return it.

    :raises BackupFailed: ``target`` exists or its folder does not; the engine is
        neither SQLite nor PostgreSQL; pg_dump is missing or fails.
    """
    target = os.path.abspath(target)
    if os.path.exists(target):
        raise BackupFailed(f"{target} exists: give a new file name (nothing is overwritten).")
    if not os.path.isdir(os.path.dirname(target)):
        raise BackupFailed(f"The folder of {target} does not exist.")
    engine = url.get_backend_name()
    if engine == "sqlite":
        sqlite_backup(url.database or "", target)
    elif engine == "postgresql":
        postgres_backup(url, target)
    else:
        raise BackupFailed(f"Backups of {engine} databases are not supported: use its own tools.")
    return Backup(target, engine, os.path.getsize(target))


def sqlite_backup(source: str, target: str) -> None:
    """Copy the SQLite database file ``source`` into the new file ``target`` with
    the online backup API.

    :raises BackupFailed: ``source`` is not a file, or SQLite fails.
    """
    if not source or source == ":memory:" or not os.path.isfile(source):
        raise BackupFailed(f"No SQLite database file at {source or '(memory)'}.")
    partial = _private_temporary_file(target)
    try:
        # Read-only: the backup never changes (or creates) the live database.
        live_uri = Path(source).resolve().as_uri() + "?mode=ro"
        with closing(sqlite3.connect(live_uri, uri=True)) as live, \
                closing(sqlite3.connect(partial)) as copy:
            live.backup(copy, pages=PAGES_PER_STEP)
            # One self-contained file: the copy keeps the source's WAL mode in its
            # header otherwise, and a -wal file would have to travel with it.
            copy.execute("PRAGMA journal_mode=DELETE")
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupFailed(f"The copy failed SQLite's integrity check: {check}")
        _fsync(partial)
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite could not copy {source}: {exc}") from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def postgres_backup(url: URL, target: str) -> None:
    """Dump the PostgreSQL database at ``url`` into ``target`` with ``pg_dump
    --format=custom``.

    :raises BackupFailed: pg_dump is not on the PATH, or it fails (its last line
        of error output is given).
    """
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupFailed(
            "pg_dump is not on the PATH: install the PostgreSQL client (its version "
            "at least the server's) or run pg_dump --format=custom yourself."
        )
    partial = _private_temporary_file(target)
    try:
        done = subprocess.run(
            [pg_dump, "--format=custom", "--no-owner", "--file", partial,
             "--dbname", libpq_uri(url)],
            env=os.environ | ({"PGPASSWORD": url.password} if url.password else {}),
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise BackupFailed(f"pg_dump failed: {last}")
        _fsync(partial)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def libpq_uri(url: URL) -> str:
    """Return ``url`` as a libpq connection URI without its password (what
    ``pg_dump --dbname`` and ``psql`` take): ``postgresql://user@host:port/db``."""
    # Built anew: URL.set(password=None) keeps the password (None means "unchanged").
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=url.database, query=url.query)
    return plain.render_as_string(hide_password=False)


def _private_temporary_file(target: str) -> str:
    """Create an empty file of mode 0600 beside ``target``; return its path."""
    fd, path = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".diary-backup-")
    os.close(fd)
    return path


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

