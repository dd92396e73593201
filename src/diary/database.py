"""Database wiring: the SQLAlchemy engine settings Diary needs on each backend."""

from __future__ import annotations

import os

from typing import Callable, TypeVar

from flask import Flask, current_app, request
from sqlalchemy import event

from diary.extensions import db, migrate

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")
# Methods that never change anything here ("no state change on GET").
SAFE_METHODS = frozenset({"GET", "HEAD"})
READS_ONLY_ATTR = "diary_reads_only"

View = TypeVar("View", bound=Callable)


def init_app(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and Flask-Migrate to ``app``.

    The migrations live inside the package (not beside it) so that an installed
    wheel can still run ``flask --app diary db upgrade``. Batch mode lets Alembic
    alter tables on SQLite, which has almost no ALTER TABLE.
    """
    db.init_app(app)
    migrate.init_app(
        app, db, directory=MIGRATIONS_DIR, render_as_batch=True, include_name=include_name
    )
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _create_private_file(db.engine.url)
            event.listen(db.engine, "connect", _sqlite_on_connect)


# The full-text search index (migration 0010, diary.services.search), engine-specific
# and outside the models: FTS5's table and its shadow tables on SQLite, the
# generated column and its index on PostgreSQL.
SEARCH_TABLE = "entry_search"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_entry_search_vector"


def include_name(name, type_, parent_names) -> bool:
    """Alembic's filter of reflected names: everything but the search index, so that
    ``flask db check`` and autogenerate compare the models with the rest."""
    if type_ == "table":
        return not (name == SEARCH_TABLE or name.startswith(SEARCH_TABLE + "_"))
    if type_ == "column":
        return not (name == SEARCH_COLUMN and parent_names.get("table_name") == "entry")
    if type_ == "index":
        return name != SEARCH_INDEX
    return True


def _create_private_file(url) -> None:
    """Create the SQLite file empty with mode 0600 before SQLite opens it, if it
    does not exist yet: SQLite would create it 0644 (less the umask), readable by
    every user of the machine, and its -wal, -shm and -journal files take the
    main file's mode. An existing file keeps its mode (see diary.instance_folder).
    """
    path = url.database
    if not path or path == ":memory:" or url.query.get("uri") or os.path.exists(path):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        # Created meanwhile by another process, or no folder to put it in: SQLite
        # opens it or reports what is wrong when it first connects.
        pass


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    """SQLite leaves foreign keys off per connection; WAL lets readers run beside
    the single writer (gunicorn workers)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def reads_only(view: View) -> View:
    """Mark ``view`` as one whose GET and HEAD requests only read the database: they
    run their statements without a transaction around them.

    Put it right under the route decorator, so that it marks the function Flask
    registers. Why: on PostgreSQL a transaction costs two round trips of its own
    (``BEGIN`` before the first statement, ``ROLLBACK`` when the request ends),
    and a page that runs two small queries (the signed-in user, then the page's
    rows) spends more time on those two round trips than on its queries
    (bench/dashboard), and psycopg forgets every prepared statement of the
    connection at a ``ROLLBACK`` (sending ``DEALLOCATE ALL``), so one page left in
    a transaction makes the next requests on its pooled connection plan their
    statements again. Such a view's statements run in autocommit mode; every GET
    page of Diary's own is marked, or named with its reason in
    ``tests/test_database.py`` (``GET_PAGES_IN_A_TRANSACTION``). Without a
    transaction the statements see separate snapshots, which a page that reads a
    user and then that user's rows cannot tell apart. Only mark views whose reads
    need no atomicity and whose services commit what they write themselves.

    On SQLite nothing needs switching: its driver (pysqlite, in its default
    transaction control) opens no transaction for a ``SELECT``, so reads already
    run on their own, and a write begins a transaction that its service commits,
    as everywhere. Switching would cost: SQLAlchemy sets the isolation level back
    with ``PRAGMA read_uncommitted``, which expires every prepared statement of the
    connection, so every request prepared each of its statements again (about
    0.1 ms of SQLite's time for the dashboard's two: bench/profile).
    """
    setattr(view, READS_ONLY_ATTR, True)
    return view


def reads_only_unless(header: str) -> Callable[[View], View]:
    """:func:`reads_only`, but a request that carries ``header`` keeps its
    transaction: such a request may write what needs one (the API's reads of
    somebody else's entries, which carry their reason in a header, record receipts
    in a savepoint, which autocommit has no transaction for)."""

    def mark(view: View) -> View:
        setattr(view, READS_ONLY_ATTR, header)
        return view

    return mark


def autocommit_pays(engine) -> bool:
    """Whether reading in autocommit mode pays on ``engine``: on PostgreSQL it saves
    round trips; on SQLite it only costs (see :func:`reads_only`). The session
    store's connections follow the same rule."""
    return engine.dialect.name != "sqlite"


def autocommit_reads() -> None:
    """Run a ``@reads_only`` view's statements without a transaction (a request
    hook: it must come before anything touches the database, see diary.pipeline)."""
    if request.method not in SAFE_METHODS or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    marked = getattr(view, READS_ONLY_ATTR, False)
    if not marked or (marked is not True and marked in request.headers):
        return
    if not autocommit_pays(db.engine):
        return
    # A session already in a transaction (a test that holds the app context, say)
    # keeps it: the isolation level can only be chosen before one begins.
    session = db.session()
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
