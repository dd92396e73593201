"""Shared fixtures: an app on a migrated database, a test client that drives the
real forms (CSRF tokens included), and an ``auth`` helper to log in and out.

The database is SQLite in a temporary folder, or the PostgreSQL database named by
``DIARY_TEST_DATABASE_URL`` (CI sets it). Its schema comes from the Alembic
migrations, exactly as in production, once per test session; each test then
starts from empty tables with the built-in roles.
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from diary import create_app
from diary.extensions import db
from diary.services import accounts

TEST_DATABASE_URL = os.environ.get("DIARY_TEST_DATABASE_URL", "")
# With it, every test app keeps its sessions and rate-limit counts in that Redis
# (as production with several instances does), each under keys of its own.
TEST_REDIS_URL = os.environ.get("DIARY_TEST_REDIS_URL", "")

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def base_config(database_url: str, instance_path: str) -> dict:
    """Return the settings every test app uses."""
    return redis_settings() | {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SECURITY_PASSWORD_SALT": "test-password-salt",
        # The other two secrets too: production mode (HTTPS) generates none.
        "SECURITY_TOTP_SECRETS": {"1": "test-totp-secret"},
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS": [
            base64.urlsafe_b64encode(b"test-recovery-codes-key".ljust(32, b".")).decode()
        ],
        # One test app is one process: production mode's checks of several
        # processes (Redis, not SQLite) are tested with it off (tests/test_production.py).
        "SINGLE_PROCESS": True,
        "INSTANCE_PATH": instance_path,
        "DATABASE_URL": database_url,
        # Mails go to app.extensions["mailman"].outbox instead of a server.
        "MAIL_BACKEND": "locmem",
        # Sent within the request, so a test finds them in the outbox right after it
        # (tests/test_mail.py and tests/security/test_enumeration.py use the thread).
        "MAIL_IN_BACKGROUND": False,
        # The test client's host, so absolute links in mails match the requests.
        "BASE_URL": "http://localhost",
        # Cheap argon2id parameters: same scheme and format, a fraction of the cost.
        "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {
            "argon2__rounds": 1,
            "argon2__memory_cost": 1024,
        },
    }


def redis_settings() -> dict:
    """Return the Redis settings of a test app: none without DIARY_TEST_REDIS_URL;
    else that Redis, with key prefixes of its own, so that no test sees another's
    counts or sessions."""
    if not TEST_REDIS_URL:
        return {}
    prefix = f"diary-test-{uuid.uuid4().hex[:12]}"
    return {
        "REDIS_URL": TEST_REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        "SESSION_KEY_PREFIX": f"{prefix}:session:",
    }


def reset_schema(url: str) -> None:
    """Drop every table in the test database so migrations start from nothing."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The migrated test database's URL."""
    url = TEST_DATABASE_URL or "sqlite:///" + str(
        tmp_path_factory.mktemp("db") / "diary-test.sqlite3"
    )
    reset_schema(url)
    app = create_app(base_config(url, str(tmp_path_factory.mktemp("instance"))))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def empty_tables() -> None:
    """Delete every row but the migration bookkeeping, then restore the roles."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    accounts.ensure_roles()


@contextmanager
def app_on_test_database(database_url: str, tmp_path, **overrides):
    """Yield a Diary app on the migrated test database with ``overrides`` on top of
    :func:`base_config`; its tables are emptied before and after, its connections
    closed after."""
    config = base_config(database_url, str(tmp_path / "instance"))
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        empty_tables()
    try:
        yield app
    finally:
        with app.app_context():
            empty_tables()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    """A Diary app on the migrated test database, tables emptied after the test."""
    with app_on_test_database(database_url, tmp_path) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, path: str = "/login") -> str:
    """Return the CSRF token of the form on ``path`` (the session's token)."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class AuthActions:
    """Log in and out through the real forms."""

    def __init__(self, client):
        self.client = client

    def login(self, email="writer@example.com", password="writerpass", next=None, **kw):
        url = "/login" + (f"?next={next}" if next else "")
        data = {"email": email, "password": password, "csrf_token": csrf_token(self.client)}
        data.update(kw)
        return self.client.post(url, data=data)

    def logout(self):
        token = csrf_token(self.client, "/")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def demo_users(app):
    """Seed the tutorial's demo accounts and roles; return them by email."""
    with app.app_context():
        accounts.seed_demo_accounts()
        from diary.models import User

        return {u.email: u.id for u in db.session.scalars(sa.select(User))}


@pytest.fixture
def writers_may_edit(app):
    """Grant the Writer role entry:edit-own and entry:delete-own, as an operator
    would: the built-in Writer role follows the tutorial's demo (create and read
    their own entries only)."""
    from diary import permissions
    from diary.security.core import security

    with app.app_context():
        role = security.datastore.find_role(permissions.WRITER)
        security.datastore.add_permissions_to_role(
            role, [permissions.ENTRY_EDIT_OWN, permissions.ENTRY_DELETE_OWN]
        )
        db.session.commit()
    return app


@pytest.fixture
def make_user(app):
    """Create a confirmed user with the given role; return its id."""

    def _make(email, password="a-long-password", role="Writer"):
        from flask_security import hash_password
        from flask_security.utils import naive_utcnow

        from diary.security.core import security

        with app.app_context():
            user = security.datastore.create_user(
                email=email, password=hash_password(password), roles=[role],
                confirmed_at=naive_utcnow(),
            )
            db.session.commit()
            return user.id

    return _make


def lock_account(app, email: str) -> None:
    """Lock ``email``'s account the way guessing does: LOCKOUT_THRESHOLD failures."""
    from diary.models import User
    from diary.services import lockout

    with app.test_request_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        for _ in range(int(app.config["LOCKOUT_THRESHOLD"])):
            lockout.record_failure(user, method="password")
        assert lockout.is_locked(user)


def unlock_account(app, email: str) -> None:
    """Unlock ``email``'s account (as ``flask users unlock`` does)."""
    from diary.models import User
    from diary.services import lockout

    with app.test_request_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        lockout.unlock(user, reason="cli")


class FakeClock:
    """A clock that stands still until a test moves it (``advance``)."""

    def __init__(self, start):
        self.current = start

    def __call__(self):
        return self.current

    def advance(self, **delta):
        from datetime import timedelta

        self.current += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """Stand in for the clocks of the lockout and session services; return it."""
    from datetime import datetime, timezone

    from diary.services import lockout, sessions

    fake = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc))
    monkeypatch.setattr(lockout, "now", fake)
    monkeypatch.setattr(sessions, "now", fake)
    return fake


def sent_mails(app) -> list:
    """Return the mails ``app`` has sent so far (Flask-Mailman's locmem outbox)."""
    return list(getattr(app.extensions["mailman"], "outbox", []))


def mail_link(message, contains: str = "") -> str:
    """Return the first link in ``message``'s plain-text part containing ``contains``."""
    from diary.mail import links_in

    links = [link for link in links_in(message.body) if contains in link]
    assert links, f"no link with {contains!r} in mail {message.subject!r}"
    return links[0]


def link_path(link: str) -> str:
    """Return the path and query of an absolute ``link``, to request it in a test."""
    from urllib.parse import urlsplit

    parts = urlsplit(link)
    return parts.path + ("?" + parts.query if parts.query else "")


def open_confirm_link(client, link: str):
    """Open a mailed confirmation link the way a person does: the page (GET), then
    its button (POST with the CSRF token). Return the POST's response."""
    path = link_path(link)
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no confirm button on {path}"
    return client.post(path, data={"csrf_token": match.group(1)})


# --- Multi-factor authentication (issue 4) -------------------------------------


@pytest.fixture
def mfa_policy_off(app):
    """Let members of MFA_REQUIRED_ROLES act without a second factor (for tests of
    other features that log in as the demo Admin with a password only)."""
    app.config["MFA_REQUIRED_ROLES"] = []
    return app


class TotpClock:
    """A clock the app's TOTP codes follow; tests move it by hand."""

    def __init__(self, now: float):
        self.now = now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def totp_clock(app):
    """Put the app's authenticator/email codes on a controlled clock (fixed in the
    middle of a 30-second step, so a code's step is never ambiguous)."""
    from diary.security.core import security

    clock = TotpClock(1_800_000_015.0)
    with app.app_context():
        security.totp_factory.set_clock(lambda: clock.now)
    return clock


@pytest.fixture
def outbox(app):
    """The list the locmem mail backend appends every sent mail to."""
    state = app.extensions["mailman"]
    if not hasattr(state, "outbox"):
        state.outbox = []
    return state.outbox
