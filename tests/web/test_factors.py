"""The /account factors section and the page after adding a factor."""

from __future__ import annotations

from tests.support.mfa_flows import page_csrf, setup_totp


def test_account_lists_factors_with_buttons(client, auth, demo_users, totp_clock):
    auth.login()
    page = client.get("/account").get_data(as_text=True)
    assert "Two-factor authentication and passkeys" in page
    assert 'href="/tf-setup"' in page and 'href="/wan-register"' in page
    assert "Recovery codes" not in page  # nothing to recover yet

    setup_totp(client, totp_clock)
    page = client.get("/account").get_data(as_text=True)
    assert "Authenticator app" in page and "added" in page and "last used" in page
    assert 'name="setup" value="disable"' in page
    assert "10 unused" in page


def test_admin_is_told_a_second_factor_is_needed(client, auth, demo_users):
    auth.login("admin@example.com", "adminpass")
    assert "Your role needs a second factor" in client.get("/account").get_data(as_text=True)


def test_factor_added_without_new_codes_goes_to_account(client, auth, demo_users):
    auth.login()
    response = client.get("/account/factors/added")
    assert response.status_code == 302 and response.headers["Location"] == "/account"


def test_factor_added_needs_login(client):
    assert client.get("/account/factors/added").status_code == 302


def test_turn_off_needs_post_with_csrf(client, auth, demo_users, totp_clock):
    auth.login()
    setup_totp(client, totp_clock)
    page = client.get("/account").get_data(as_text=True)
    assert client.post("/tf-setup", data={"setup": "disable"}).status_code == 400
    assert client.post(
        "/tf-setup", data={"setup": "disable", "csrf_token": page_csrf(page)}
    ).status_code == 302
