"""The login form: "remember me", Diary's words, and one plain message for every
refused sign-in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import sqlalchemy as sa

from diary.extensions import db
from diary.models import UserSession
from tests.conftest import csrf_token

FOURTEEN_DAYS = timedelta(days=14)
CSRF_VALUE = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')


def test_remember_me_is_offered_by_default_and_sets_a_14_day_cookie(app, client, auth, make_user):
    make_user("rem@example.com")
    assert 'name="remember"' in client.get("/login").get_data(as_text=True)
    before = datetime.now(timezone.utc)
    response = auth.login("rem@example.com", "a-long-password", remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token=") for c in cookies)  # not Flask-Login's
    cookie = next(c for c in cookies if c.startswith("diary_remember="))
    attributes = dict(
        part.strip().partition("=")[::2] for part in cookie.split(";")[1:]
    )
    assert "HttpOnly" in attributes and attributes["SameSite"] == "Lax"
    # Both ways a browser reads a cookie's life say 14 days, to the second.
    assert attributes["Max-Age"] == str(int(FOURTEEN_DAYS.total_seconds()))
    expires = parsedate_to_datetime(attributes["Expires"])
    assert before + FOURTEEN_DAYS - timedelta(seconds=1) <= expires
    assert expires <= datetime.now(timezone.utc) + FOURTEEN_DAYS + timedelta(seconds=1)
    # And the server's record, which decides, says the same.
    with app.app_context():
        row = db.session.scalar(sa.select(UserSession))
        assert row.remember_digest and row.remember_until - row.signed_in_at == FOURTEEN_DAYS


def test_remember_me_off_hides_it_and_ignores_a_posted_value(app, client, make_user):
    app.config["REMEMBER_ME"] = False
    make_user("norem@example.com")
    assert 'name="remember"' not in client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"email": "norem@example.com", "password": "a-long-password",
              "remember": "y", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith(("remember_token=", "diary_remember=")) for c in cookies)
    with app.app_context():
        assert db.session.scalar(sa.select(UserSession.remember_digest)) is None


PLAIN = "That email address and password don&#39;t match an account we can sign you in to."


def test_the_login_page_speaks_diarys_words(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<h1>Log in</h1>" in html
    for label in ("Email address", "Password", "Remember me"):
        assert f">{label}</label>" in html, label
    assert 'type="submit" value="Log in"' in html
    assert "Email Address" not in html and "Remember Me" not in html


def test_every_refused_sign_in_reads_the_same_plain_sentence(app, client, auth, make_user):
    """Unknown address, wrong password, locked, deactivated and unconfirmed accounts
    all get one answer, which names none of them."""
    from diary.models import User
    from tests.conftest import lock_account

    for email in ("wrong@example.com", "locked@example.com", "off@example.com",
                  "unconf@example.com"):
        make_user(email)
    lock_account(app, "locked@example.com")
    with app.app_context():
        security = app.extensions["security"]
        security.datastore.deactivate_user(
            db.session.scalar(sa.select(User).where(User.email == "off@example.com")))
        db.session.scalar(
            sa.select(User).where(User.email == "unconf@example.com")).confirmed_at = None
        db.session.commit()
    answers = {
        "unknown": auth.login("nobody@example.com", "a-long-password"),
        "wrong password": auth.login("wrong@example.com", "not-the-password"),
        "locked": auth.login("locked@example.com", "a-long-password"),
        "deactivated": auth.login("off@example.com", "a-long-password"),
        "unconfirmed": auth.login("unconf@example.com", "a-long-password"),
    }
    for why, response in answers.items():
        html = response.get_data(as_text=True)
        assert response.status_code == 200, why
        assert html.count(PLAIN) == 1, why
        assert "identity or password" not in html, why
    bodies = {why: r.get_data(as_text=True).split("<main", 1)[1].split("</main>")[0]
              for why, r in answers.items()}
    # The whole form reads the same but for the address typed back into it.
    normalised = {why: re.sub(r'value="[^"]*@example\.com"', "", body)
                  for why, body in bodies.items()}
    normalised = {why: CSRF_VALUE.sub("", body) for why, body in normalised.items()}
    assert len(set(normalised.values())) == 1, normalised

