"""Faults (issue 12): PostgreSQL or Redis stopped under a running app, and a
request that fails half-way. The servers stopped are throwaway ones of the test's
own (tests/support/throwaway.py), never the shared ones; without them the tests
skip, except where DIARY_E2E_REQUIRED is set (CI), where they fail."""

from __future__ import annotations

import logging
import os
import time

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from diary import create_app
from diary.extensions import db
from diary.services import accounts
from tests.conftest import AuthActions, base_config, csrf_token
from tests.support import throwaway

REQUIRED = bool(os.environ.get("DIARY_E2E_REQUIRED"))
# Small on purpose: the bound the 503 must arrive within (see the PostgreSQL test).
CONNECT_TIMEOUT = 2


def need(what: str) -> None:
    reason = throwaway.unavailable_reason(what)
    if reason:
        if REQUIRED:
            pytest.fail(f"DIARY_E2E_REQUIRED is set but {reason}")
        pytest.skip(reason)


def make_app(database_url: str, tmp_path, **overrides):
    config = base_config(database_url, str(tmp_path / "instance"))
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        upgrade()
        accounts.ensure_roles()
    return app


def add_writer(app, email="writer@example.com", password="writerpass"):
    from flask_security import hash_password
    from flask_security.utils import naive_utcnow

    from diary.security.core import security

    with app.app_context():
        user = security.datastore.create_user(
            email=email, password=hash_password(password), roles=["Writer"],
            confirmed_at=naive_utcnow(),
        )
        db.session.commit()
        return user.id


def personal_token(app, user_id: int) -> str:
    from datetime import timedelta

    from diary.models import User
    from diary.services import tokens

    with app.test_request_context():
        user = db.session.get(User, user_id)
        new = tokens.create_token(user, "faults", ["entries:read"], timedelta(days=1),
                                  strength=tokens.Strength.PASSWORD)
        db.session.commit()
        return new.secret


def assert_unavailable(response, api: bool) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 503, (response.status_code, body[:500])
    assert int(response.headers["Retry-After"]) >= 1
    assert "Traceback" not in body and "sqlalchemy" not in body.lower()
    assert "psycopg" not in body.lower() and "redis" not in body.lower()
    if api:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["type"] == "/api/v1/problems/unavailable"
    else:
        assert response.mimetype == "text/html"


# --- PostgreSQL stopped, then back ------------------------------------------------


def test_postgresql_stopped_gives_503_within_the_connect_timeout_then_recovers(tmp_path):
    need("postgresql")
    with throwaway.postgres() as pg:
        app = make_app(pg.url, tmp_path, DATABASE_CONNECT_TIMEOUT=CONNECT_TIMEOUT)
        user_id = add_writer(app)
        token = personal_token(app, user_id)
        client = app.test_client()
        assert AuthActions(client).login().status_code == 302
        assert client.get("/").status_code == 200
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/entries", headers=bearer).status_code == 200

        pg.stop()
        for path, headers, api in (
            ("/", {}, False),
            ("/api/v1/entries", {}, True),
            ("/api/v1/entries", bearer, True),
        ):
            started = time.monotonic()
            response = client.get(path, headers=headers)
            elapsed = time.monotonic() - started
            assert_unavailable(response, api)
            # A bound on the setting, not a speed claim: far below an unbounded wait.
            assert elapsed < CONNECT_TIMEOUT + 8, elapsed

        pg.start()
        # The same client, the same app (no restart): it works again.
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/entries", headers=bearer).status_code == 200
        with app.app_context():
            db.engine.dispose()


def test_a_statement_over_the_statement_timeout_gives_503(tmp_path):
    need("postgresql")
    with throwaway.postgres() as pg:
        app = make_app(pg.url, tmp_path, DATABASE_STATEMENT_TIMEOUT=0.2)

        @app.get("/test-slow")
        def slow():
            db.session.execute(sa.text("SELECT pg_sleep(5)"))
            return "done"

        response = app.test_client().get("/test-slow")
        assert_unavailable(response, api=False)
        with app.app_context():
            assert db.session.execute(sa.text("SHOW statement_timeout")).scalar() == "200ms"
            db.engine.dispose()


def test_postgresql_engine_options_carry_the_timeouts():
    from diary.config import engine_options

    options = engine_options(
        {"DATABASE_CONNECT_TIMEOUT": 5, "DATABASE_STATEMENT_TIMEOUT": 30,
         "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 3}},
        "postgresql+psycopg://db/diary",
    )
    assert options == {"pool_size": 3, "connect_args": {
        "connect_timeout": 5, "options": "-c statement_timeout=30000"}}
    assert engine_options({"DATABASE_CONNECT_TIMEOUT": 5}, "sqlite:///x") == {}


# --- Redis stopped, then back -----------------------------------------------------


def login_post(client, email="writer@example.com", password="writerpass"):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


def test_redis_stopped_refuses_sign_in_with_503_and_api_reads_go_on(
    database_url, tmp_path, caplog
):
    need("redis")
    from tests.conftest import app_on_test_database

    # As in production: an error past the views reaches the app's 500 handler
    # (TESTING would re-raise it into the test instead).
    with throwaway.redis() as redis_server, app_on_test_database(
        database_url, tmp_path, REDIS_URL=redis_server.url, PROPAGATE_EXCEPTIONS=False
    ) as app:
        user_id = add_writer(app)
        token = personal_token(app, user_id)
        bearer = {"Authorization": f"Bearer {token}"}
        client = app.test_client()
        assert login_post(client).status_code == 302
        assert client.get("/").status_code == 200
        stranger = app.test_client()
        csrf_token(stranger)  # a session (and its form's token) made before the outage

        redis_server.stop()
        with caplog.at_level(logging.ERROR):
            # Sessions live in Redis: a page that needs one says so, nobody is
            # signed out; a sign-in is refused (closed).
            assert_unavailable(client.get("/"), api=False)
            assert_unavailable(stranger.post("/login", data={
                "email": "writer@example.com", "password": "writerpass",
                "csrf_token": "x"}), api=False)
            # A new visitor's sign-in form needs a session to keep its token in.
            fresh = app.test_client()
            assert_unavailable(fresh.get("/login"), api=False)
            # Reads that need no session go on (their limits fail open).
            response = fresh.get("/api/v1/entries", headers=bearer)
            assert response.status_code == 200, response.get_data(as_text=True)
        assert any(r.levelno >= logging.ERROR and "unreachable" in r.getMessage()
                   for r in caplog.records)

        redis_server.start()
        # The throwaway Redis keeps nothing on disk: its sessions are gone, so the
        # old browser is sent to sign in again (a plain redirect, not an error).
        assert client.get("/").status_code == 302
        again = app.test_client()
        assert login_post(again).status_code == 302


def test_rate_limit_outage_is_logged_once_per_outage(database_url, tmp_path, caplog):
    need("redis")
    from tests.conftest import app_on_test_database

    with throwaway.redis() as redis_server, app_on_test_database(
        database_url, tmp_path, REDIS_URL="", RATELIMIT_STORAGE_URI=redis_server.url
    ) as app:
        bearer = {"Authorization": f"Bearer {personal_token(app, add_writer(app))}"}
        client = app.test_client()
        redis_server.stop()
        with caplog.at_level(logging.WARNING):
            for _ in range(3):
                # The API's own budgets (Flask-Limiter's) fail open too.
                assert client.get("/api/v1/entries", headers=bearer).status_code == 200
                assert login_post(client).status_code == 503
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1, [r.getMessage() for r in errors]
        assert "rate-limit storage unreachable" in errors[0].getMessage()
        redis_server.start()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=app.logger.name):
            assert login_post(client).status_code == 302
        assert any("reachable again" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("sign_in_open, others_open", [(True, False), (False, True)])
def test_the_settings_choose_open_or_closed(database_url, tmp_path, sign_in_open, others_open):
    need("redis")
    from tests.conftest import app_on_test_database

    # Sessions in the database, limits in the throwaway Redis: only the limits fail.
    with throwaway.redis() as redis_server, app_on_test_database(
        database_url, tmp_path, REDIS_URL="", RATELIMIT_STORAGE_URI=redis_server.url,
        SIGN_IN_LIMITS_FAIL_OPEN=sign_in_open, OTHER_LIMITS_FAIL_OPEN=others_open,
    ) as app:
        add_writer(app)
        client = app.test_client()
        redis_server.stop()
        signed_in = login_post(client)
        assert signed_in.status_code == (302 if sign_in_open else 503)
        other = app.test_client()
        reset = other.post("/reset", data={
            "email": "writer@example.com", "csrf_token": csrf_token(other, "/reset")})
        assert (reset.status_code == 503) is not others_open, reset.status_code
        if not others_open:
            assert "Retry-After" in reset.headers


def test_a_json_sign_in_refused_closed_is_json(database_url, tmp_path):
    need("redis")
    from tests.conftest import app_on_test_database

    with throwaway.redis() as redis_server, app_on_test_database(
        database_url, tmp_path, REDIS_URL="", RATELIMIT_STORAGE_URI=redis_server.url,
        WTF_CSRF_CHECK_DEFAULT=False,
    ) as app:
        redis_server.stop()
        response = app.test_client().post(
            "/login", json={"email": "writer@example.com", "password": "writerpass"})
        assert response.status_code == 503 and response.is_json
        assert "Retry-After" in response.headers


# --- A request that fails half-way -------------------------------------------------


def test_a_request_that_fails_after_a_flush_leaves_nothing_behind(app, client):
    """Flask-SQLAlchemy's teardown removes the request's session (with sessions in
    the database, saving the session also rolls the request's transaction back
    first; with DIARY_TEST_REDIS_URL only the teardown does)."""
    from diary.models import Role

    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-half-done")
    def half_done():
        db.session.add(Role(name="half-done"))
        db.session.flush()
        raise RuntimeError("boom after a flush")

    @app.get("/test-roles")
    def roles():
        return ",".join(db.session.scalars(sa.select(Role.name)))

    @app.get("/test-add-role")
    def add_role():
        db.session.add(Role(name="whole"))
        db.session.commit()
        return "ok"

    response = client.get("/test-half-done")
    assert response.status_code == 500
    assert "boom" not in response.get_data(as_text=True)
    with app.app_context():
        # Its session was removed at teardown: its connection is back in the pool,
        # rolled back, not held (with its transaction) by a forgotten session.
        assert db.engine.pool.checkedout() == 0
    # The same worker (app, thread, scoped session), the next request: clean.
    assert "half-done" not in client.get("/test-roles").get_data(as_text=True)
    assert client.get("/test-add-role").status_code == 200
    assert "whole" in client.get("/test-roles").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Role).where(Role.name == "half-done")) is None


def test_a_bug_in_sql_is_still_a_500_not_a_503(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-bad-sql")
    def bad_sql():
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
        return "unreachable"

    response = client.get("/test-bad-sql")
    assert response.status_code == 500 and "Retry-After" not in response.headers
