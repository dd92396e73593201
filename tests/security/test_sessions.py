"""Idle timeout and absolute lifetime, enforced on the server, on a controlled
clock; "remember me" signs in again after a session ended."""

from __future__ import annotations

from tests.conftest import AuthActions


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


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


def test_remember_me_signs_in_again_with_fresh_times(client, auth, make_user, clock):
    make_user("remember@example.com")
    auth.login("remember@example.com", "a-long-password", remember="y")
    clock.advance(hours=2)
    assert signed_in(client)  # idle session ended, the remember cookie signs in
    clock.advance(minutes=29)
    assert signed_in(client)  # and the new session has its own times


def test_sign_out_everywhere_ends_another_clients_session(app, make_user):
    make_user("two@example.com")
    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login("two@example.com", "a-long-password", remember="y")
    AuthActions(phone).login("two@example.com", "a-long-password")
    assert signed_in(laptop) and signed_in(phone)

    from tests.conftest import csrf_token

    response = phone.post(
        "/account/sign-out-everywhere", data={"csrf_token": csrf_token(phone, "/account")}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert not signed_in(phone)
    assert not signed_in(laptop)  # its session and its remember cookie are dead


def test_remember_me_ends_after_fourteen_days_on_the_server(client, auth, make_user, clock):
    make_user("fortnight@example.com")
    auth.login("fortnight@example.com", "a-long-password", remember="y")
    clock.advance(days=13, hours=23)
    assert signed_in(client)  # signed in again from the cookie
    clock.advance(hours=1)
    # Session idle and the remember cookie 14 days old: a browser that ignored its
    # expiry (or a copied cookie) is refused, and the cookie deleted.
    response = client.get("/")
    assert response.status_code == 302
    assert any(
        c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie")
    )


def test_a_remember_cookie_without_its_stamp_is_refused(client, auth, make_user, clock):
    from diary.security.sessions import REMEMBER_STAMP_COOKIE

    make_user("stamp@example.com")
    auth.login("stamp@example.com", "a-long-password", remember="y")
    assert client.get_cookie(REMEMBER_STAMP_COOKIE) is not None
    client.delete_cookie(REMEMBER_STAMP_COOKIE)
    clock.advance(hours=1)  # the session is idle: only the cookie could sign in
    assert not signed_in(client)


def _writes_session_cookie(response) -> bool:
    return any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))


def test_the_last_use_is_written_back_at_most_once_a_minute(client, auth, make_user, clock):
    make_user("steady@example.com")
    auth.login("steady@example.com", "a-long-password")
    clock.advance(seconds=59)
    response = client.get("/")
    assert response.status_code == 200
    assert not _writes_session_cookie(response)  # nothing changed worth a new cookie
    clock.advance(seconds=1)
    response = client.get("/")
    assert response.status_code == 200
    assert _writes_session_cookie(response)


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
