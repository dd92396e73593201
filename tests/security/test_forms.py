"""Forms that check a password: a wrong current password at /change or
/change-email counts toward the lockout and the per-IP sign-in limit, and an
answer refusing the rest of the form never tells whether it was right."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import User
from diary.services import lockout
from tests.conftest import csrf_token

EMAIL, PASSWORD = "guess@example.com", "a-long-password"
NEW = "a brand new long passphrase"


@pytest.fixture
def signed_in(client, auth, make_user):
    make_user(EMAIL, PASSWORD)
    assert auth.login(EMAIL, PASSWORD).status_code == 302
    return client


def change_password(client, current, new=NEW, confirm=None, **headers):
    return client.post("/change", data={
        "password": current, "new_password": new, "new_password_confirm": confirm or new,
        "csrf_token": csrf_token(client, "/change")}, **headers)


def change_email(client, current, email="moved@example.org"):
    return client.post("/change-email", data={
        "email": email, "password": current,
        "csrf_token": csrf_token(client, "/change-email")})


def failures(app) -> int:
    with app.app_context():
        return lockout.failure_count(db.session.scalar(sa.select(User).where(User.email == EMAIL)))


def test_wrong_current_passwords_at_change_lock_the_account(app, signed_in):
    for attempt in range(1, 5):
        response = change_password(signed_in, f"wrong guess {attempt}")
        assert response.status_code == 200
        assert "Invalid password" in response.get_data(as_text=True)
        assert failures(app) == attempt
    change_password(signed_in, "wrong guess 5")
    # Locked: the session that guessed is refused, and the right password too.
    assert signed_in.get("/").status_code == 302
    with app.app_context():
        assert lockout.is_locked(db.session.scalar(sa.select(User).where(User.email == EMAIL)))


def test_wrong_current_passwords_at_change_email_count_too(app, signed_in):
    response = change_email(signed_in, "wrong guess")
    assert response.status_code == 200
    assert "Invalid password" in response.get_data(as_text=True)
    assert failures(app) == 1
    assert change_email(signed_in, PASSWORD).status_code == 200
    assert failures(app) == 1  # a right one counts nothing


def test_the_change_forms_share_the_sign_in_budget_per_ip(app, signed_in):
    app.config["LIMIT_LOGIN_PER_IP"] = "3 per minute"
    app.config["LOCKOUT_THRESHOLD"] = 100  # the budget, not the lockout, is tested
    answers = [change_password(signed_in, f"guess {i}").status_code for i in range(3)]
    answers.append(change_email(signed_in, "guess 3").status_code)
    assert answers == [200, 200, 200, 429]


def test_a_weak_new_password_is_refused_before_the_current_one_is_checked(app, signed_in):
    """The answer must not tell a right current password from a wrong one while
    the rest of the form is refused (an oracle for whoever holds the session)."""
    right = change_password(signed_in, PASSWORD, new="short")
    wrong = change_password(signed_in, "not it at all", new="short")
    for response in (right, wrong):
        assert response.status_code == 200
        assert "Invalid password" not in response.get_data(as_text=True)
    assert failures(app) == 0  # never checked, so never counted


def test_the_json_answer_is_the_same_for_a_right_and_a_wrong_password(app, signed_in):
    headers = {"Accept": "application/json"}

    def answer(current):
        response = signed_in.post(
            "/change",
            json={"password": current, "new_password": "short", "new_password_confirm": "short"},
            headers={**headers, "X-CSRFToken": csrf_token(signed_in, "/change")},
        )
        return response.status_code, response.get_json()["response"]["field_errors"]

    assert answer(PASSWORD) == answer("not it at all")


def test_a_taken_address_is_answered_without_looking_at_the_password(app, signed_in, make_user):
    make_user("taken@example.org")
    wrong = change_email(signed_in, "not it at all", email="taken@example.org")
    right = change_email(signed_in, PASSWORD, email="taken@example.org")
    assert wrong.status_code == right.status_code == 200
    assert "Invalid password" not in wrong.get_data(as_text=True)
    assert failures(app) == 0


def test_change_email_needs_the_current_password(app, signed_in, outbox):
    response = signed_in.post("/change-email", data={
        "email": "moved@example.org", "csrf_token": csrf_token(signed_in, "/change-email")})
    assert response.status_code == 200
    assert outbox == []  # no mail to the new address without the password
    assert change_email(signed_in, PASSWORD).status_code == 200
    assert [m.to for m in outbox] == [["moved@example.org"]]


# The library's Title Case labels that Diary's words replace (DiaryWords).
LIBRARY_WORDS = ("Email Address", "Retype Password", "Recover Password", "Reset Password",
                 "Resend Confirmation Instructions", "Remember Me", "New Password",
                 "Change Password", "Verify Password")


@pytest.mark.parametrize("path, labels, button", [
    ("/register", ["Email address", "Password", "Confirm password"], "Register"),
    ("/reset", ["Email address"], "Send reset link"),
    ("/confirm", ["Email address"], "Send the confirmation mail again"),
])
def test_public_security_pages_speak_diarys_words(client, path, labels, button):
    html = client.get(path).get_data(as_text=True)
    for label in labels:
        assert f">{label}</label>" in html, label
    assert f'type="submit" value="{button}"' in html
    assert not [words for words in LIBRARY_WORDS if words in html]


@pytest.mark.parametrize("path, labels, button", [
    ("/change", ["Current password", "New password", "Confirm password"], "Change password"),
    ("/change-email", ["New email address", "Current password"], "Send confirmation link"),
    ("/verify", ["Password"], "Confirm it is you"),
])
def test_signed_in_security_pages_speak_diarys_words(signed_in, path, labels, button):
    html = signed_in.get(path).get_data(as_text=True)
    for label in labels:
        assert f">{label}</label>" in html, label
    assert f'type="submit" value="{button}"' in html
    assert not [words for words in LIBRARY_WORDS if words in html]


# --- Registration: an optional display name (issue 10) ---------------------------


def test_registration_may_ask_for_a_name(app, client):
    def register(email, name):
        return client.post("/register", data={
            "email": email, "name": name, "password": "lantern orbit quietly mango",
            "password_confirm": "lantern orbit quietly mango",
            "csrf_token": csrf_token(client, "/register")})

    assert 'name="name"' in client.get("/register").get_data(as_text=True)
    assert register("named@example.org", "  Grace Hopper ").status_code == 302
    assert register("nameless@example.org", "").status_code == 302
    refused = register("bad@example.org", "Grace\x07")
    assert refused.status_code == 200 and "Use letters" in refused.get_data(as_text=True)
    with app.app_context():
        names = dict(db.session.execute(sa.select(User.email, User.name)).all())
    assert names == {"named@example.org": "Grace Hopper", "nameless@example.org": None}
