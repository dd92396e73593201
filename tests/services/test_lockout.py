"""The lockout rule, through the real login form, on a controlled clock."""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_security import password_reset

from diary.extensions import db
from diary.models import AccountLockout, AuditEvent, User
from diary.services import lockout
from tests.conftest import TEST_DATABASE_URL, app_on_test_database, csrf_token

EMAIL = "owner@example.com"
PASSWORD = "correct horse battery staple"
GENERIC = "That email address and password don't match an account we can sign you in to."


@pytest.fixture
def app(database_url, tmp_path):
    """The app, with password recovery on: the lockout mail links to it and a
    completed reset unlocks."""
    with app_on_test_database(
        database_url,
        tmp_path,
        SECURITY_RECOVERABLE=True,
        # These tests sign in more than 10 times a minute from one address on
        # purpose; the per-IP rate limit has tests of its own.
        LIMIT_LOGIN_PER_IP="1000 per minute",
        # Each failing request holds two connections (its session's and the
        # counter's own): room for 20 at once in the parallel test.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "max_overflow": 40},
    ) as app:
        yield app

@pytest.fixture
def owner(make_user):
    return make_user(EMAIL, PASSWORD)


def errors(response) -> list[str]:
    found = re.findall(r'class="fs-error-msg">([^<]+)<', response.get_data(as_text=True))
    return [html.unescape(error) for error in found]


def fail(auth, times=1):
    for _ in range(times):
        response = auth.login(EMAIL, "wrong password")
        assert response.status_code == 200
    return response


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def state(app, user_id) -> AccountLockout | None:
    with app.app_context():
        return db.session.get(AccountLockout, user_id)


def tags(app, user_id) -> list[str]:
    with app.app_context():
        query = sa.select(AuditEvent.tag).where(AuditEvent.user_id == user_id)
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_sixth_try_with_the_right_password_is_refused_like_a_wrong_one(
    app, client, auth, owner, clock
):
    wrong = fail(auth, 5)
    right = auth.login(EMAIL, PASSWORD)
    assert right.status_code == 200
    assert errors(right) == errors(wrong) == [GENERIC]
    assert not signed_in(client)
    assert state(app, owner).failures == 5
    # The refusal is on the owner's activity page, but is no failure of its own.
    with app.app_context():
        last = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.user_id == owner)
            .order_by(AuditEvent.id.desc())
        ).first()
        assert (last.tag, last.details["reason"]) == ("account:login:failure", "locked")


def test_the_lock_ends_after_fifteen_minutes(app, client, auth, owner, clock):
    fail(auth, 5)
    clock.advance(minutes=14, seconds=59)
    auth.login(EMAIL, PASSWORD)
    assert not signed_in(client)
    clock.advance(seconds=1)
    assert auth.login(EMAIL, PASSWORD).status_code == 302
    assert signed_in(client)
    row = state(app, owner)
    assert (row.failures, row.lockouts, row.locked_until) == (0, 0, None)


def test_four_failures_then_a_success_start_the_count_again(app, client, auth, owner, clock):
    fail(auth, 4)
    assert auth.login(EMAIL, PASSWORD).status_code == 302
    auth.logout()
    fail(auth, 4)
    assert auth.login(EMAIL, PASSWORD).status_code == 302


def test_a_second_lockout_waits_thirty_minutes_and_the_wait_is_capped(
    app, client, auth, owner, clock
):
    fail(auth, 5)
    clock.advance(minutes=15)
    fail(auth, 4)  # the count started again after the first lockout ran out
    with app.app_context():
        assert not lockout.is_locked(db.session.get(User, owner))
    fail(auth)
    row = state(app, owner)
    assert row.lockouts == 2
    assert row.locked_until == clock() + timedelta(minutes=30)
    clock.advance(minutes=29, seconds=59)
    auth.login(EMAIL, PASSWORD)
    assert not signed_in(client)
    clock.advance(seconds=1)
    assert auth.login(EMAIL, PASSWORD).status_code == 302

    with app.app_context():
        assert lockout.lock_duration(0).total_seconds() == 15 * 60
        assert lockout.lock_duration(1).total_seconds() == 30 * 60
        assert lockout.lock_duration(6).total_seconds() == 16 * 60 * 60
        assert lockout.lock_duration(7).total_seconds() == 24 * 60 * 60
        assert lockout.lock_duration(10**6).total_seconds() == 24 * 60 * 60


def test_failures_while_locked_are_counted_but_do_not_extend_the_lock(
    app, auth, owner, clock
):
    fail(auth, 5)
    until = state(app, owner).locked_until
    clock.advance(minutes=5)
    fail(auth, 3)
    row = state(app, owner)
    assert (row.failures, row.lockouts, row.locked_until) == (8, 1, until)


def test_lockout_is_audited_and_mailed_to_the_owner_once(app, auth, owner, clock):
    fail(auth, 7)
    assert tags(app, owner) == ["account:login:failure"] * 5 + [
        "account:lockout:locked"
    ] + ["account:login:failure"] * 2
    outbox = app.extensions["mailman"].outbox
    assert len(outbox) == 1
    mail = outbox[0]
    assert mail.to == [EMAIL]
    assert "locked" in mail.subject
    text = mail.body
    assert "2026-11-28 09:00 UTC" in text  # when
    assert "127.0.0.1" in text  # from where (the test client's address)
    assert "2026-11-28 09:15 UTC" in text  # until when
    reset_link = app.config["BASE_URL"] + "/reset"
    assert reset_link in text  # how to get in at once
    html = mail.alternatives[0][0]
    assert "2026-11-28 09:15 UTC" in html and f'href="{reset_link}"' in html


def test_a_completed_password_reset_unlocks(app, client, auth, owner, clock):
    fail(auth, 5)
    with app.test_request_context():
        user = db.session.get(User, owner)
        # What Flask-Security sends (inside the reset request) once a reset link
        # has set a new password.
        password_reset.send(app, user=user)
        assert not lockout.is_locked(user)
    assert auth.login(EMAIL, PASSWORD).status_code == 302
    assert "account:lockout:unlocked" in tags(app, owner)


def test_a_reset_through_the_library_flow_unlocks(app, client, auth, owner, clock):
    fail(auth, 5)
    with app.app_context():
        from flask_security.recoverable import generate_reset_password_token

        token = generate_reset_password_token(db.session.get(User, owner))
    new_password = "a brand new long passphrase"
    reset_token = csrf_token(client, f"/reset/{token}")
    response = client.post(
        f"/reset/{token}",
        data={"password": new_password, "password_confirm": new_password,
              "csrf_token": reset_token},
    )
    assert response.status_code == 302
    assert auth.login(EMAIL, new_password).status_code == 302


def test_a_locked_owner_can_still_ask_for_a_reset(app, client, auth, owner, clock):
    fail(auth, 5)
    with app.test_request_context("/login", method="POST"):
        assert db.session.get(User, owner).is_locked() is True
    with app.test_request_context("/reset", method="POST"):
        assert db.session.get(User, owner).is_locked() is False
    token = csrf_token(client, "/reset")
    response = client.post("/reset", data={"email": EMAIL, "csrf_token": token})
    assert response.status_code in (200, 302)
    assert errors(response) == []
    assert any("/reset/" in mail.body for mail in app.extensions["mailman"].outbox)


def test_every_pathway_counts_the_same(app, owner, clock):
    """Second-factor codes, passcodes and passkeys reach the lockout through the
    very hook the password form uses; which one failed does not matter."""
    with app.test_request_context("/tf-validate", method="POST"):
        user = db.session.get(User, owner)
        for method, tfa in [("code", True), ("passcode", False), ("passkey", False),
                            ("password", False), ("code", True)]:
            user.track_failed_authn(method, tfa)
        assert lockout.is_locked(user)
        errors_: list[str] = []
        assert user.is_locked(errors_) is True
        assert errors_ == [GENERIC]
    # The three first-factor failures and the refusal while locked are audited
    # here; the two second-factor failures by the MFA code (security/mfa_events),
    # each once.
    assert tags(app, owner).count("account:login:failure") == 4
    assert tags(app, owner).count("account:two_factor:failure") == 2


@pytest.mark.integration
@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="needs PostgreSQL (DIARY_TEST_DATABASE_URL): SQLite serialises every "
    "writer, so it cannot show a race",
)
def test_twenty_parallel_wrong_guesses_count_exactly_twenty(app, owner, tmp_path):
    barrier = threading.Barrier(20)
    statuses = []

    def guess():
        client = app.test_client()
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"',
            client.get("/login").get_data(as_text=True),
        ).group(1)
        barrier.wait()
        response = client.post(
            "/login", data={"email": EMAIL, "password": "wrong", "csrf_token": token}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 20
    row = state(app, owner)
    assert row.failures == 20
    assert row.lockouts == 1
    with app.app_context():
        assert lockout.is_locked(db.session.get(User, owner))
    assert tags(app, owner).count("account:lockout:locked") == 1
    assert len(app.extensions["mailman"].outbox) == 1
