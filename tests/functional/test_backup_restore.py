"""Backup and a tested restore, as docs/deploy.md tells an operator to do them:
``flask --app diary backup PATH`` while the app serves; later, with the app
stopped, the copy put back (SQLite) or ``pg_restore`` into a fresh database
(PostgreSQL); the app then shows the diary as it was at the backup."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from diary import create_app
from diary.extensions import db
from diary.models import Entry
from diary.services.backup import libpq_uri
from tests.conftest import TEST_DATABASE_URL, AuthActions, base_config

EMAIL = "keeper@example.com"
PASSWORD = "a-long-password"


def add_writer_with_entries(app, *texts: str) -> None:
    """Create a confirmed Writer with ``texts`` as entries."""
    from flask_security import hash_password
    from flask_security.utils import naive_utcnow

    from diary.security.core import security

    with app.app_context():
        user = security.datastore.create_user(
            email=EMAIL, password=hash_password(PASSWORD), roles=["Writer"],
            confirmed_at=naive_utcnow())
        db.session.flush()
        db.session.add_all(Entry(user_id=user.id, content=text) for text in texts)
        db.session.commit()


def change_the_diary(app) -> None:
    """What happens after the backup: one entry deleted, one rewritten."""
    with app.app_context():
        entries = db.session.scalars(sa.select(Entry).order_by(Entry.id)).all()
        db.session.delete(entries[0])
        entries[1].content = "rewritten after the backup"
        db.session.commit()


def shown_entries(app) -> str:
    """Sign in through the login form; return the dashboard's HTML."""
    client = app.test_client()
    response = AuthActions(client).login(EMAIL, PASSWORD)
    assert response.status_code == 302, response.status_code
    return client.get("/").get_data(as_text=True)


def stop(app) -> None:
    """What stopping the app does to its database: every connection closed."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_sqlite_backup_while_serving_then_restore(tmp_path):
    live = tmp_path / "instance" / "diary.sqlite3"
    app = create_app(base_config("", str(tmp_path / "instance")))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{live}"
    with app.app_context():
        upgrade()
    add_writer_with_entries(app, "herons on the canal", "a walk by the river")

    # Serving: another connection is half-way through a write while the backup runs.
    writer = sqlite3.connect(live)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE entry SET content = 'never committed'")
    backup = tmp_path / "backups" / "diary-backup.sqlite3"
    backup.parent.mkdir()
    result = app.test_cli_runner().invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert f"Backed up the sqlite database to {backup}" in result.output
    writer.rollback()
    writer.close()
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    assert not os.path.exists(f"{backup}-wal")  # one self-contained file

    change_the_diary(app)
    page = shown_entries(app)
    assert "herons on the canal" not in page and "rewritten after the backup" in page

    # The restore: stop, copy the backup over the live file (and drop the old
    # file's -wal and -shm, which belong to it), start.
    stop(app)
    for leftover in (f"{live}-wal", f"{live}-shm"):
        if os.path.exists(leftover):
            os.unlink(leftover)
    shutil.copyfile(backup, live)
    restarted = create_app(base_config("", str(tmp_path / "instance")))
    page = shown_entries(restarted)
    assert "herons on the canal" in page and "a walk by the river" in page
    assert "rewritten after the backup" not in page and "never committed" not in page
    stop(restarted)


def test_backup_refuses_to_overwrite_a_file(app, runner, tmp_path):
    target = tmp_path / "exists.sqlite3"
    target.write_text("keep me")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1
    assert "exists: give a new file name (nothing is overwritten)" in result.output
    assert target.read_text() == "keep me"


needs_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql")
    or not (shutil.which("pg_dump") and shutil.which("pg_restore")),
    reason="needs DIARY_TEST_DATABASE_URL on PostgreSQL, pg_dump and pg_restore",
)


@pytest.fixture
def fresh_postgres_database():
    """Create an empty PostgreSQL database beside the test database; yield its
    URL; drop it after the test."""
    url = sa.engine.make_url(TEST_DATABASE_URL)
    name = f"{url.database}_restore_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@needs_postgres
def test_postgres_backup_restored_into_a_fresh_database(app, runner, tmp_path,
                                                         fresh_postgres_database):
    add_writer_with_entries(app, "herons on the canal", "a walk by the river")
    dump = tmp_path / "diary.dump"
    result = runner.invoke(args=["backup", str(dump)])
    assert result.exit_code == 0, result.output
    assert f"Backed up the postgresql database to {dump}" in result.output
    assert dump.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    change_the_diary(app)

    # The documented restore: pg_restore into a fresh database, DATABASE_URL to it.
    url = fresh_postgres_database
    done = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", libpq_uri(url), str(dump)],
        env=os.environ | ({"PGPASSWORD": url.password} if url.password else {}),
        capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    restored = create_app(base_config(url.render_as_string(hide_password=False),
                                      str(tmp_path / "restored")))
    try:
        page = shown_entries(restored)
        assert "herons on the canal" in page and "a walk by the river" in page
        assert "rewritten after the backup" not in page
        # The restored schema is at the migrations' head: /readyz says ready.
        assert restored.test_client().get("/readyz").status_code == 200
    finally:
        stop(restored)
