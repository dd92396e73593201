"""Helpers of the tests of one migration: find it, and an app on a fresh SQLite
database to run it on."""

from __future__ import annotations

from alembic.script import Script, ScriptDirectory

from diary import create_app, database
from tests.conftest import base_config


def fresh_app(tmp_path):
    """Return a Diary app on an empty SQLite database in ``tmp_path``."""
    return create_app(base_config(f"sqlite:///{tmp_path / 'm.sqlite3'}", str(tmp_path / "instance")))


def migration_named(app, file_suffix: str) -> Script:
    """Return the migration whose file name ends with ``file_suffix`` (found by name:
    the revision ids may be renumbered when branches merge). Needs an app context."""
    config = app.extensions["migrate"].migrate.get_config(database.MIGRATIONS_DIR)
    return next(r for r in ScriptDirectory.from_config(config).walk_revisions()
                if r.path.endswith(file_suffix))
