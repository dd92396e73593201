"""The backup service's refusals and its PostgreSQL details (the whole backup and
restore: tests/functional/test_backup_restore.py)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from diary.services import backup


def test_libpq_uri_leaves_out_the_driver_and_the_password():
    url = make_url("postgresql+psycopg://diary:s3cret@db.internal:5433/diary?sslmode=require")
    assert backup.libpq_uri(url) == "postgresql://diary@db.internal:5433/diary?sslmode=require"


def test_a_missing_pg_dump_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupFailed, match="pg_dump is not on the PATH"):
        backup.backup(make_url("postgresql+psycopg://diary@db/diary"), str(tmp_path / "d.dump"))
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


def test_a_failing_pg_dump_gives_its_last_line_and_leaves_no_file(tmp_path):
    url = make_url("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    if backup.shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    with pytest.raises(backup.BackupFailed, match="^pg_dump failed: "):
        backup.backup(url, str(tmp_path / "d.dump"))
    assert list(tmp_path.iterdir()) == []


def test_the_target_folder_must_exist(tmp_path):
    with pytest.raises(backup.BackupFailed, match="does not exist"):
        backup.backup(make_url("sqlite:///x"), str(tmp_path / "no" / "copy.sqlite3"))


def test_no_sqlite_file_no_backup(tmp_path):
    with pytest.raises(backup.BackupFailed, match="No SQLite database file"):
        backup.backup(make_url(f"sqlite:///{tmp_path}/missing.sqlite3"), str(tmp_path / "c"))
    assert not (tmp_path / "missing.sqlite3").exists()  # not created by the attempt


def test_other_engines_are_refused(tmp_path):
    with pytest.raises(backup.BackupFailed, match="mysql databases are not supported"):
        backup.backup(make_url("mysql://diary@db/diary"), str(tmp_path / "c"))


def test_a_sqlite_copy_is_complete_and_independent(tmp_path):
    live = tmp_path / "live.sqlite3"
    with sqlite3.connect(live) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (x)")
        connection.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(5000)])
    made = backup.backup(make_url(f"sqlite:///{live}"), str(tmp_path / "copy.sqlite3"))
    assert made.engine == "sqlite" and made.size > 0
    with sqlite3.connect(made.path) as copy:
        assert copy.execute("SELECT count(*), sum(x) FROM t").fetchone() == (5000, sum(range(5000)))
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
