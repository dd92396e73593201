"""The request's identity: server-side sessions and their lifetime on a controlled
clock, sign-in and sign-out on the server, "remember me" as a server-side record,
and pages that take nothing but the session."""

from __future__ import annotations

import sqlalchemy as sa

from diary.extensions import db
from diary.models import User, UserSession
from tests.conftest import csrf_token

REMEMBER = "diary_remember"


def stored(app, key: str) -> bool:
    """Return whether the session store holds a record under ``key``."""
    with app.app_context():
        return app.session_interface._retrieve_session_data(key) is not None


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


# --- Lifetime, on the server ------------------------------------------------------


def test_idle_timeout_ends_the_session(client, auth, make_user, clock):
    make_user("idle@example.com")
    auth.login("idle@example.com", "a-long-password")
    clock.advance(minutes=29)
    assert signed_in(client)
    clock.advance(minutes=29)  # activity keeps it alive
    assert signed_in(client)
    clock.advance(minutes=30)
    assert not signed_in(client)
    assert client.get("/").headers["Location"].startswith("/login")


def test_absolute_lifetime_ends_even_an_active_session(client, auth, make_user, clock):
    make_user("busy@example.com")
    auth.login("busy@example.com", "a-long-password")
    for _ in range(12 * 4 - 1):  # a request every 15 minutes, for 11h45
        clock.advance(minutes=15)
        assert signed_in(client)
    clock.advance(minutes=15)
    assert not signed_in(client)


def _writes_session_cookie(response) -> bool:
    return any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))


def test_the_last_use_is_written_back_at_most_once_a_minute(app, client, auth, make_user, clock):
    make_user("steady@example.com")
    auth.login("steady@example.com", "a-long-password")
    signed_in_at = clock.current
    client.get("/")  # the first page gives the new session its CSRF token (a write)
    clock.advance(seconds=59)
    response = client.get("/")
    assert response.status_code == 200
    assert not _writes_session_cookie(response)  # nothing changed: no write at all
    with app.app_context():
        assert db.session.scalar(sa.select(UserSession.last_seen_at)) == signed_in_at
    clock.advance(seconds=1)
    response = client.get("/")
    assert response.status_code == 200
    assert _writes_session_cookie(response)  # the record is rewritten: its expiry moves
    with app.app_context():
        assert db.session.scalar(sa.select(UserSession.last_seen_at)) == clock.current


def test_the_idle_timeout_is_exact_to_the_minute_and_never_late(client, auth, make_user, clock):
    # The idle time counts from the last time written back, which may be up to a
    # minute before the last request: a session can end up to a minute early,
    # never late.
    make_user("lazy@example.com")
    auth.login("lazy@example.com", "a-long-password")
    clock.advance(seconds=59)
    assert signed_in(client)  # not written back: the session still counts from login
    clock.advance(minutes=29, seconds=1)  # 30 minutes after the last written time
    assert not signed_in(client)


# --- Sign-in and sign-out on the server ---------------------------------------------


def test_a_cookie_copied_before_logout_is_refused_after_it(app, client, auth, make_user):
    make_user("copy@example.com")
    auth.login("copy@example.com", "a-long-password")
    copied = session_cookie(client)
    with app.app_context():
        key = app.session_interface._get_store_id(copied)
        assert stored(app, key)
    auth.logout()
    # The server forgets the session itself, not just the sign-in in it.
    assert not stored(app, key)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 0


def test_every_sign_in_gets_a_new_session_id_and_csrf_token(app, client, auth, make_user):
    make_user("fixation@example.com")
    token_before = csrf_token(client, "/login")
    id_before = session_cookie(client)
    assert id_before  # the anonymous session that holds the login form's token
    auth.login("fixation@example.com", "a-long-password")
    assert session_cookie(client) not in (None, id_before)
    # The session a planted cookie named is gone: it signs nobody in.
    planted = app.test_client()
    planted.set_cookie("session", id_before)
    assert not signed_in(planted)
    # The CSRF token from before the sign-in no longer works…
    refused = client.post("/new_entry", data={"content": "x", "csrf_token": token_before})
    assert refused.status_code == 400
    assert "security token" in refused.get_data(as_text=True)
    # …the session's new one does.
    accepted = client.post("/new_entry", data={"content": "x", "csrf_token": csrf_token(client, "/")})
    assert accepted.status_code == 302


# --- Remember me ---------------------------------------------------------------------


def test_remember_me_signs_in_again_with_fresh_times(client, auth, make_user, clock):
    make_user("remember@example.com")
    auth.login("remember@example.com", "a-long-password", remember="y")
    clock.advance(hours=2)
    assert signed_in(client)  # idle session ended, the remember cookie signs in
    clock.advance(minutes=29)
    assert signed_in(client)  # and the new session has its own times


def test_remember_me_ends_after_fourteen_days_on_the_server(client, auth, make_user, clock):
    make_user("fortnight@example.com")
    auth.login("fortnight@example.com", "a-long-password", remember="y")
    clock.advance(days=13, hours=23)
    assert signed_in(client)  # signed in again from the cookie
    clock.advance(hours=1)
    # Session idle and the record 14 days old: a browser that ignored the cookie's
    # expiry (or a copied cookie) is refused, and the cookie deleted.
    response = client.get("/")
    assert response.status_code == 302
    assert any(c.startswith(f"{REMEMBER}=;") for c in response.headers.getlist("Set-Cookie"))


def test_a_remember_cookie_with_a_wrong_secret_is_refused(client, auth, make_user, clock):
    make_user("forged@example.com")
    auth.login("forged@example.com", "a-long-password", remember="y")
    row_id, _, _secret = client.get_cookie(REMEMBER).value.partition(".")
    client.set_cookie(REMEMBER, row_id + "." + "A" * 43)
    clock.advance(hours=1)  # the session is idle: only the cookie could sign in
    assert not signed_in(client)


def test_signing_out_ends_remember_me_too(app, client, auth, make_user, clock):
    make_user("bye@example.com")
    auth.login("bye@example.com", "a-long-password", remember="y")
    kept = client.get_cookie(REMEMBER).value
    auth.logout()
    assert client.get_cookie(REMEMBER) is None
    copy = app.test_client()
    copy.set_cookie(REMEMBER, kept)
    assert not signed_in(copy)


def test_old_remember_cookies_are_never_honoured(app, make_user):
    """Cookies of the scheme this replaced (Flask-Login's signed user id) sign
    nobody in, and are deleted."""
    from flask_login.utils import encode_cookie

    user_id = make_user("legacy@example.com")
    with app.app_context():
        uniquifier = db.session.get(User, user_id).fs_uniquifier
    with app.test_request_context():
        legacy = encode_cookie(uniquifier)
    client = app.test_client()
    client.set_cookie("remember_token", legacy)
    response = client.get("/")
    assert response.status_code == 302
    assert any(c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie"))


# --- Pages take the session only -----------------------------------------------------


def test_pages_take_no_token_neither_in_a_header_nor_in_the_query_string(app, demo_users):
    from tests.api.conftest import login_auth_token, make_pat

    auth_token = login_auth_token(app, "writer@example.com", "writerpass")["authentication_token"]
    pat, _ = make_pat(app, "writer@example.com")
    client = app.test_client()
    # Each is a good credential: the API takes it.
    assert client.get("/api/v1/me", headers={"Authentication-Token": auth_token}).status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {pat}"}).status_code == 200
    # No page does, however it comes.
    for path, headers in (
        ("/", {"Authentication-Token": auth_token}),
        (f"/?auth_token={auth_token}", {}),
        ("/", {"Authorization": f"Bearer {pat}"}),
        ("/account", {"Authentication-Token": auth_token, "Accept": "application/json"}),
    ):
        response = client.get(path, headers=headers)
        assert response.status_code in (302, 401), path
        assert response.status_code != 200
    # Nor does the API take one from the query string.
    assert client.get(f"/api/v1/me?auth_token={auth_token}").status_code == 401


def test_a_session_carries_every_role_of_its_user(app, client, auth, make_user):
    """The user, their roles, their device row and their lockout come in one
    statement: all of the roles, not the first row's."""
    from diary.security.core import security

    user_id = make_user("two.roles@example.com")
    with app.app_context():
        role = security.datastore.create_role(name="Reader", permissions=["entry:read-any"])
        security.datastore.add_role_to_user(db.session.get(User, user_id), role)
        db.session.commit()
    auth.login("two.roles@example.com", "a-long-password")
    assert client.get("/all").status_code == 200  # entry:read-any, from the second role
    assert client.get("/").status_code == 200  # entry:read-own, from Writer
