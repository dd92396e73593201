"""The /account page's sessions section and the activity page."""

from __future__ import annotations

from diary.web.account import short_user_agent
from tests.conftest import csrf_token

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def test_account_page_links_activity_and_offers_sign_out_everywhere(client, auth, make_user):
    make_user("page@example.com")
    auth.login("page@example.com", "a-long-password")
    html = client.get("/account").get_data(as_text=True)
    assert 'href="/account/activity"' in html
    assert 'action="/account/sign-out-everywhere" method="post"' in html
    assert "Sign out everywhere" in html


def test_activity_shows_the_users_own_events_only(client, auth, make_user):
    make_user("mine@example.com")
    make_user("theirs@example.com")
    auth.login("theirs@example.com", "wrong-password")
    client.post("/login", data={})  # nothing recorded for a form without CSRF
    auth.login("mine@example.com", "wrong-password", )
    auth.login("mine@example.com", "a-long-password")
    html = client.get("/account/activity", headers={"User-Agent": FIREFOX}).get_data(as_text=True)
    assert html.count("Failed sign-in attempt") == 1  # theirs is not shown
    assert "Signed in" in html
    assert "127.0.0.1" in html
    assert "wrong-password" not in html


def test_sign_out_everywhere_is_post_only_and_needs_csrf(client, auth, make_user):
    make_user("csrf@example.com")
    auth.login("csrf@example.com", "a-long-password")
    assert client.get("/account/sign-out-everywhere").status_code == 405
    assert client.post("/account/sign-out-everywhere").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_anonymous_users_are_sent_to_login(client):
    assert client.get("/account/activity").status_code == 302
    # A good CSRF token (the anonymous session's), so that what refuses is the
    # sign-in check, not the CSRF check.
    response = client.post(
        "/account/sign-out-everywhere", data={"csrf_token": csrf_token(client, "/login")}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_short_user_agent():
    assert short_user_agent(FIREFOX) == "Firefox on Linux"
    assert short_user_agent(EDGE) == "Edge on Windows"
    assert short_user_agent(IPHONE) == "Safari on iOS"
    assert short_user_agent("curl/8.5.0") == "curl"
    assert short_user_agent(None) == "unknown"
    assert short_user_agent("x" * 50) == "x" * 40 + "…"


def test_activity_says_when_a_sign_in_was_refused_for_a_lockout(client, auth, make_user, clock):
    make_user("locked@example.com")
    for _ in range(5):
        auth.login("locked@example.com", "wrong-password")
    auth.login("locked@example.com", "a-long-password")  # refused while locked
    clock.advance(minutes=15)
    auth.login("locked@example.com", "a-long-password")
    html = client.get("/account/activity").get_data(as_text=True)
    assert "Account locked after failed sign-in attempts" in html
    assert html.count("(refused: the account was locked)") == 1
