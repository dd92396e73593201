"""Server-side sessions (Flask-Session 0.8): the record is kept under a digest of
the session id, in Diary's own table by default or in Redis when REDIS_URL is
set, expires the idle timeout after its last write, and is never read for
static files."""

from __future__ import annotations

import hashlib
import os

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import StoredSession
from diary.models.types import utcnow
from diary.security import session_store
from tests.conftest import app_on_test_database

TEST_REDIS_URL = os.environ.get("DIARY_TEST_REDIS_URL", "")


def stored_keys(app) -> list[str]:
    """Every key the app's session store holds for this app."""
    interface = app.session_interface
    if isinstance(interface, session_store.RedisSessions):
        return [k.decode() for k in interface.client.keys(interface.key_prefix + "*")]
    with app.app_context():
        return list(db.session.scalars(sa.select(StoredSession.key)))


def test_the_store_keeps_a_digest_of_the_session_id_never_the_id(app, client, auth, make_user):
    make_user("digest@example.com")
    auth.login("digest@example.com", "a-long-password")
    sid = client.get_cookie("session").value
    keys = stored_keys(app)
    expected = app.config["SESSION_KEY_PREFIX"] + hashlib.sha256(sid.encode()).hexdigest()
    assert expected in keys
    assert all(sid not in key for key in keys)


def test_a_copy_of_the_store_gives_nobody_a_cookie(app, client, auth, make_user):
    make_user("dump@example.com")
    auth.login("dump@example.com", "a-long-password")
    thief = app.test_client()
    for key in stored_keys(app):
        thief.set_cookie("session", key.removeprefix(app.config["SESSION_KEY_PREFIX"]))
        assert thief.get("/").status_code == 302


def test_the_database_store_is_diarys_table_and_expires_records(database_url, tmp_path):
    with app_on_test_database(database_url, tmp_path, REDIS_URL="") as app:
        assert isinstance(app.session_interface, session_store.DatabaseSessionInterface)
        client = app.test_client()
        client.get("/login")  # an anonymous session with the form's CSRF token
        with app.app_context():
            row = db.session.scalar(sa.select(StoredSession))
            assert row is not None
            # Lives the idle timeout from its last write.
            left = (row.expires_at - utcnow()).total_seconds()
            assert 1790 <= left <= 1800
            # An expired record is dropped when read, and treated as no session.
            row.expires_at = utcnow()
            db.session.commit()
            assert app.session_interface._retrieve_session_data(row.key) is None
            assert db.session.scalar(sa.select(sa.func.count(StoredSession.key))) == 0


def test_static_files_read_no_session(app, client, auth, make_user, monkeypatch):
    make_user("static@example.com")
    auth.login("static@example.com", "a-long-password")
    reads = []
    interface = type(app.session_interface)
    original = interface._retrieve_session_data
    monkeypatch.setattr(
        interface,
        "_retrieve_session_data",
        lambda self, store_id: reads.append(store_id) or original(self, store_id),
    )
    assert client.get("/static/css/diary.css").status_code == 200
    assert reads == []
    assert client.get("/").status_code == 200
    assert len(reads) == 1


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set DIARY_TEST_REDIS_URL")
def test_with_redis_the_sessions_live_in_redis_with_the_idle_timeout(
    database_url, tmp_path, make_user
):
    with app_on_test_database(
        database_url, tmp_path, REDIS_URL=TEST_REDIS_URL, SESSION_KEY_PREFIX="diary-redis-test:"
    ) as app:
        assert isinstance(app.session_interface, session_store.RedisSessions)
        client = app.test_client()
        client.get("/login")
        [key] = stored_keys(app)
        assert 1790 <= app.session_interface.client.ttl(key) <= 1800
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(StoredSession.key))) == 0
        app.session_interface.client.delete(key)


def test_a_request_that_wrote_without_committing_still_saves_its_session(database_url, tmp_path):
    """On SQLite the request's own uncommitted write holds the database's write lock:
    the store rolls it back before it writes the session record, or that write
    would wait for the lock (busy_timeout) and fail."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock: SQLite only")
    with app_on_test_database(database_url, tmp_path, REDIS_URL="") as app:

        @app.get("/_test/write-without-commit")
        def write_without_commit():
            from flask import session

            db.session.execute(sa.text("UPDATE role SET description = description"))
            session["seen"] = "yes"
            return "written"

        client = app.test_client()
        response = client.get("/_test/write-without-commit")
        assert response.status_code == 200
        key = app.session_interface._get_store_id(client.get_cookie("session").value)
        with app.app_context():
            assert app.session_interface._retrieve_session_data(key)["seen"] == "yes"


def test_a_page_that_only_read_is_not_rolled_back_before_the_session_is_saved(
    app, client, auth, make_user, monkeypatch
):
    """A page that wrote nothing keeps its objects loaded until teardown: rolling
    back would expire each of them, for nothing."""
    make_user("reader@example.com")
    auth.login("reader@example.com", "a-long-password")
    rollbacks = []
    original = sa.orm.Session.rollback
    monkeypatch.setattr(
        sa.orm.Session, "rollback", lambda self: rollbacks.append(1) or original(self)
    )
    assert client.get("/").status_code == 200
    assert client.get("/account").status_code == 200
    assert rollbacks == []
