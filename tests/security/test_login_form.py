"""The login form's "remember me" setting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import sqlalchemy as sa

from diary.extensions import db
from diary.models import UserSession
from tests.conftest import csrf_token

FOURTEEN_DAYS = timedelta(days=14)


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
