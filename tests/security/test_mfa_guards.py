"""Guards: the second-factor rate limit, the WebAuthn host check, recovery codes
shown once, and the policy's identity and redirect."""

from __future__ import annotations

from flask_principal import Need
from flask_security.utils import get_message

from diary.extensions import db
from diary.models import User
from diary.security import mfa_guards


def test_rate_limit_counts_failures_per_user(app, make_user):
    uid = make_user("g@example.com")
    app.config["MFA_RATELIMIT"] = "2 per 5 minutes"
    with app.test_request_context("/"):
        user = db.session.get(User, uid)
        other = User(fs_uniquifier="someone-else")
        assert mfa_guards.second_factor_allowed(user.fs_uniquifier)
        mfa_guards.count_second_factor_failure(user)
        mfa_guards.count_second_factor_failure(user)
        assert not mfa_guards.second_factor_allowed(user.fs_uniquifier)
        assert mfa_guards.second_factor_allowed(other.fs_uniquifier)


def test_second_factor_step_only_is_limited(client, app):
    app.config["MFA_RATELIMIT"] = "1 per 5 minutes"
    # No password step done: nothing to limit (the library refuses the request).
    # Three tries under a limit of one: were they counted, the second would be 429.
    # Each with a good CSRF token, so that the CSRF check (which runs first) lets
    # them through to the guard.
    from tests.conftest import csrf_token

    token = csrf_token(client, "/login")
    for _ in range(3):
        response = client.post("/tf-validate", data={"code": "1", "csrf_token": token})
        assert response.status_code not in (400, 429), response.status_code


def test_webauthn_refuses_other_hosts(client, app):
    response = client.get("/wan-signin", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert client.get("/wan-signin").status_code == 200


def test_codes_are_not_shown_again(client, auth, demo_users):
    auth.login()
    response = client.get("/mf-recovery-codes?show_codes=1")
    assert response.status_code == 302 and response.headers["Location"] == "/mf-recovery-codes"
    assert client.get("/mf-recovery-codes", headers={"Accept": "application/json"}).status_code == 403


def test_identity_loses_withheld_permissions_and_roles(client, auth, demo_users, app):
    from flask import g

    auth.login("admin@example.com", "adminpass")
    with client:
        client.get("/")
        provides = g.identity.provides
        assert Need("fsperm", "entry:create") in provides
        assert Need("fsperm", "entry:read-any") not in provides
        assert Need("role", "Admin") not in provides
        assert Need("role", "Writer") not in provides  # the admin is not a Writer


def test_limit_lives_in_shared_redis_when_configured(database_url, tmp_path):
    """With REDIS_URL the count is in Redis, where every app instance sees it."""
    import os
    import secrets

    import pytest
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    from diary import create_app
    from tests.conftest import base_config

    url = os.environ.get("DIARY_TEST_REDIS_URL")
    if not url:
        pytest.skip("DIARY_TEST_REDIS_URL is not set")
    config = base_config(database_url, str(tmp_path / "instance"))
    config.update(REDIS_URL=url, MFA_RATELIMIT="2 per 5 minutes")
    app = create_app(config)
    who = User(fs_uniquifier=secrets.token_hex(16))
    with app.test_request_context("/"):
        mfa_guards.count_second_factor_failure(who)
        mfa_guards.count_second_factor_failure(who)
    # Another process, reading the same Redis, sees the limit reached.
    other = FixedWindowRateLimiter(storage_from_string(url))
    assert not other.test(parse("2 per 5 minutes"), mfa_guards.LIMIT_NAMESPACE, who.fs_uniquifier)
    with app.app_context():
        db.engine.dispose()


def test_pages_with_secrets_are_not_stored(client, auth, demo_users, totp_clock):
    from tests.support.mfa_flows import page_csrf

    auth.login()
    assert client.get("/mf-recovery-codes").headers["Cache-Control"] == "no-store"
    page = client.get("/tf-setup").get_data(as_text=True)
    with_key = client.post("/tf-setup", data={"setup": "authenticator", "csrf_token": page_csrf(page)})
    assert 'id="totp-key"' in with_key.get_data(as_text=True)
    assert with_key.headers["Cache-Control"] == "no-store"


def _at_second_factor_when_locked(app, client, auth, totp_clock):
    """Set up TOTP for the writer, stop a new sign-in at the second-factor step,
    then lock the account from another client with five wrong passwords; return
    a right code for the step."""
    from tests.conftest import AuthActions
    from tests.support.mfa_flows import setup_totp

    auth.login()
    totp = setup_totp(client, totp_clock)
    auth.logout()
    totp_clock.advance(30)
    assert auth.login().headers["Location"].startswith("/tf-validate")
    guesser = AuthActions(app.test_client())
    for _ in range(5):
        guesser.login(password="wrong")
    return totp.at(totp_clock.now)


def test_a_lock_reached_meanwhile_ends_the_sign_in_at_the_second_factor(
    client, auth, demo_users, app, totp_clock
):
    import sqlalchemy as sa

    from diary.models import AuditEvent
    from tests.support.mfa_flows import submit_code

    good = _at_second_factor_when_locked(app, client, auth, totp_clock)
    response = submit_code(client, good)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302  # not signed in
    with client.session_transaction() as sess:
        assert "tf_user_id" not in sess  # the half-done sign-in is forgotten
    with app.app_context():
        last = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (last.tag, last.details["reason"]) == ("account:login:failure", "locked")


def test_a_lock_reached_meanwhile_answers_json_like_a_failed_sign_in(
    client, auth, demo_users, app, totp_clock
):
    from tests.support.mfa_flows import page_csrf

    good = _at_second_factor_when_locked(app, client, auth, totp_clock)
    token = page_csrf(client.get("/tf-validate").get_data(as_text=True))
    response = client.post(
        "/tf-validate", json={"code": good}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 400
    with app.test_request_context():
        generic = get_message("GENERIC_AUTHN_FAILED")[0]
    assert response.get_json()["response"]["errors"] == [generic]
    assert client.get("/").status_code == 302


def test_a_lock_reached_meanwhile_also_ends_the_recovery_code_step(
    client, auth, demo_users, app, totp_clock
):
    from tests.support.mfa_flows import submit_code

    _at_second_factor_when_locked(app, client, auth, totp_clock)
    response = submit_code(client, "aaaa-bbbb-cccc", path="/mf-recovery")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    with client.session_transaction() as sess:
        assert "tf_user_id" not in sess
