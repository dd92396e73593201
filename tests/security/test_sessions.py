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
