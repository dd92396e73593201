"""The login form's "remember me" setting."""

from __future__ import annotations

from tests.conftest import csrf_token


def test_remember_me_is_offered_by_default_and_sets_a_14_day_cookie(client, auth, make_user):
    make_user("rem@example.com")
    assert 'name="remember"' in client.get("/login").get_data(as_text=True)
    response = auth.login("rem@example.com", "a-long-password", remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    cookie = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=1209600" in cookie or "Expires=" in cookie


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
    assert not any(c.startswith("remember_token=") for c in cookies)
