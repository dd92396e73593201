"""Database wiring: the SQLAlchemy engine settings Diary needs on each backend."""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import event

from diary.extensions import db, migrate

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def init_app(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and Flask-Migrate to ``app``.

    The migrations live inside the package (not beside it) so that an installed
    wheel can still run ``flask --app diary db upgrade``. Batch mode lets Alembic
    alter tables on SQLite, which has almost no ALTER TABLE.
    """
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_on_connect)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    """SQLite leaves foreign keys off per connection; WAL lets readers run beside
    the single writer (gunicorn workers)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
