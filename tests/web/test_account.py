"""The /account page's sessions section and the activity page."""

from __future__ import annotations

import pytest

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


# --- Your devices (/account/sessions) ------------------------------------------------

FIREFOX_UA = {"User-Agent": FIREFOX}


def _device_ids(client) -> list[str]:
    import re

    html = client.get("/account/sessions").get_data(as_text=True)
    return re.findall(r'data-device="([^"]+)"', html)


def test_devices_lists_this_one_and_the_others(app, client, auth, make_user):
    from tests.conftest import AuthActions

    make_user("devices@example.com")
    laptop = app.test_client()
    laptop.environ_base["HTTP_USER_AGENT"] = FIREFOX
    AuthActions(laptop).login("devices@example.com", "a-long-password", remember="y")
    auth.login("devices@example.com", "a-long-password")
    html = client.get("/account/sessions").get_data(as_text=True)
    assert len(_device_ids(client)) == 2
    assert "this device" in html
    assert "Firefox on Linux" in html and "remembered until" in html
    assert 'href="/account/sessions"' in client.get("/account").get_data(as_text=True)


def test_signing_out_another_device_ends_it_there(app, client, auth, make_user):
    from diary.models import AuditEvent
    from tests.conftest import AuthActions

    make_user("two@example.com")
    phone = app.test_client()
    AuthActions(phone).login("two@example.com", "a-long-password", remember="y")
    auth.login("two@example.com", "a-long-password")
    mine = client.get("/account/sessions").get_data(as_text=True)
    ids = _device_ids(client)
    this = next(i for i in ids if f'data-device="{i}" aria-current="true"' in mine)
    other = next(i for i in ids if i != this)
    response = client.post(f"/account/sessions/{other}/sign-out",
                           data={"csrf_token": csrf_token(client, "/account/sessions")})
    assert response.status_code == 302 and response.headers["Location"] == "/account/sessions"
    assert phone.get("/").status_code == 302  # its session and its "remember me" are gone
    assert client.get("/").status_code == 200
    assert _device_ids(client) == [this]
    with app.app_context():
        from diary.extensions import db

        tags = [e.tag for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
        assert tags[-1] == "account:sessions:device_signed_out"


def test_sign_out_everywhere_else_keeps_only_this_device(app, client, auth, make_user):
    from tests.conftest import AuthActions

    make_user("many@example.com")
    others = [app.test_client() for _ in range(2)]
    for other in others:
        AuthActions(other).login("many@example.com", "a-long-password")
    auth.login("many@example.com", "a-long-password")
    response = client.post("/account/sessions/sign-out-others",
                           data={"csrf_token": csrf_token(client, "/account/sessions")})
    assert response.status_code == 302
    assert "Signed out of 2 other devices." in client.get("/account/sessions").get_data(as_text=True)
    assert [other.get("/").status_code for other in others] == [302, 302]
    assert client.get("/").status_code == 200


def test_signing_out_this_device_signs_this_browser_out(client, auth, make_user):
    make_user("self@example.com")
    auth.login("self@example.com", "a-long-password")
    [this] = _device_ids(client)
    response = client.post(f"/account/sessions/{this}/sign-out",
                           data={"csrf_token": csrf_token(client, "/account/sessions")})
    assert response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302


def test_a_device_of_somebody_else_is_not_found(app, client, auth, make_user):
    from tests.conftest import AuthActions

    make_user("owner@example.com")
    make_user("other@example.com")
    theirs = app.test_client()
    AuthActions(theirs).login("other@example.com", "a-long-password")
    [their_device] = _device_ids(theirs)
    auth.login("owner@example.com", "a-long-password")
    response = client.post(f"/account/sessions/{their_device}/sign-out",
                           data={"csrf_token": csrf_token(client, "/account/sessions")})
    assert response.status_code == 404
    assert theirs.get("/").status_code == 200


def test_device_sign_out_needs_post_and_csrf(client, auth, make_user):
    make_user("csrf2@example.com")
    auth.login("csrf2@example.com", "a-long-password")
    [this] = _device_ids(client)
    assert client.get(f"/account/sessions/{this}/sign-out").status_code == 405
    refused = client.post(f"/account/sessions/{this}/sign-out")
    assert refused.status_code == 400 and "security token" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "zone", ["Europe/Paris", "UTC", "America/Argentina/Buenos_Aires", "Not/AZone", None]
)
def test_time_zone_select_renders_what_wtforms_renders(app, zone):
    """The time zone list is rendered once per process (diary.web.account
    .TimeZoneSelect), as the same markup WTForms' own Select widget gives, with the
    user's zone selected."""
    from wtforms.widgets import Select

    from diary.web.account import ProfileForm

    with app.test_request_context():
        form = ProfileForm(formdata=None, name="", time_zone=zone)
        ours = str(form.time_zone(**{"aria-describedby": "x"}))
        assert ours == str(Select()(form.time_zone, **{"aria-describedby": "x"}))
        assert ours.count("selected") == (1 if zone in ("Europe/Paris", "UTC",
                                                         "America/Argentina/Buenos_Aires") else 0)
