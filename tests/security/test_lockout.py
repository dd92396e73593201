"""The lockout hooks: JSON login answers a locked account exactly like a wrong
password."""

from __future__ import annotations

import pytest

from diary.extensions import db
from diary.models import User
from diary.security import lockout as hooks
from tests.conftest import csrf_token

EMAIL = "json@example.com"
PASSWORD = "a-long-password"


@pytest.fixture
def owner(make_user):
    return make_user(EMAIL, PASSWORD)


def json_login(client, password):
    return client.post(
        "/login",
        json={"email": EMAIL, "password": password},
        headers={"X-CSRF-Token": csrf_token(client)},
    )


def test_json_login_of_a_locked_account_answers_like_a_wrong_password(
    app, client, owner, clock
):
    for _ in range(5):
        wrong = json_login(client, "wrong")
    right = json_login(client, PASSWORD)
    assert wrong.status_code == right.status_code == 400
    assert wrong.get_json() == right.get_json()
    assert right.get_json()["response"]["errors"] == [
        "That email address and password don't match an account we can sign you in to."]
    clock.advance(minutes=15)
    assert json_login(client, PASSWORD).status_code == 200


def test_locked_adds_the_generic_message_only_when_locked(app, owner, clock):
    with app.test_request_context("/login", method="POST"):
        user = db.session.get(User, owner)
        errors: list[str] = []
        assert hooks.locked(user, errors) is False and errors == []
        for _ in range(5):
            hooks.failed_authn(user, "password", False)
        assert hooks.locked(user, None) is True
        assert hooks.locked(user, errors) is True and len(errors) == 1


def test_failed_authn_still_sends_the_library_signal(app, owner, clock):
    from flask_security import user_failed_authn

    seen = []

    def receiver(_app, user, auth_type, tfa, **_):
        seen.append((user.id, auth_type, tfa))

    with user_failed_authn.connected_to(receiver, app):
        with app.test_request_context("/login", method="POST"):
            db.session.get(User, owner).track_failed_authn("passkey")
    assert seen == [(owner, "passkey", False)]


def test_an_administrators_permanent_lock_is_the_active_flag(app, client, owner, runner):
    result = runner.invoke(args=["users", "deactivate", EMAIL])
    assert result.exit_code == 0, result.output
    refused = json_login(client, PASSWORD)
    wrong = json_login(client, "wrong")
    assert refused.status_code == wrong.status_code == 400
    assert refused.get_json() == wrong.get_json()
    # Unlocking the lockout does not undo a deactivation.
    runner.invoke(args=["users", "unlock", EMAIL])
    assert json_login(client, PASSWORD).status_code == 400
