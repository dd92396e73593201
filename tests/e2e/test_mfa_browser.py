"""Multi-factor journeys in a real Chromium, under the strict Content-Security-Policy
Diary serves (scripts and styles from the site only, data: images for the QR code):
a passkey made by the DevTools virtual authenticator, and an authenticator app
whose key is read off the page."""

from __future__ import annotations

import pyotp
import pytest

from tests.e2e.conftest import log_in, sign_out

pytestmark = pytest.mark.e2e

CSP = "default-src 'self'; img-src 'self' data:"


@pytest.fixture
def csp_app(app):
    """The app with the Content-Security-Policy the headers work adds (so a page that
    needs inline script or style fails here)."""

    @app.after_request
    def _csp(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    return app


@pytest.fixture
def mfa_site(csp_app, live_server):
    """The live server, with BASE_URL (the WebAuthn relying party) pointing at it."""
    csp_app.config["BASE_URL"] = live_server
    return live_server


@pytest.fixture
def csp_violations(page):
    """Console messages of content blocked by the policy."""
    messages = []
    page.on(
        "console",
        lambda msg: messages.append(msg.text)
        if "Content Security Policy" in msg.text or "Refused to" in msg.text
        else None,
    )
    return messages


def add_virtual_authenticator(context, page) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )


def test_register_a_passkey_then_sign_in_with_it_alone(
    mfa_site, demo_users, context, page, csp_violations
):
    add_virtual_authenticator(context, page)
    log_in(page, "writer@example.com", "writerpass")

    page.goto("/wan-register")
    page.get_by_label("Nickname").fill("Laptop")
    page.get_by_label("to sign in without a password").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account")
    assert page.get_by_test_id("passkeys").get_by_text("Laptop").is_visible()

    sign_out(page)
    page.goto("/wan-signin")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(mfa_site + "/")
    assert "writer@example.com" in page.get_by_test_id("current-user").inner_text()
    assert csp_violations == []


def test_set_up_authenticator_app_then_log_in_with_password_and_code(
    mfa_site, demo_users, page, totp_clock, csp_violations
):
    log_in(page, "writer@example.com", "writerpass")
    page.goto("/tf-setup")
    page.get_by_label("Authenticator app").check()
    page.get_by_role("button", name="Continue").click()
    assert page.locator("img#qrcode").evaluate("img => img.complete && img.naturalWidth > 0")
    totp = pyotp.TOTP(page.get_by_test_id("totp-key").inner_text().replace("-", ""))
    page.locator("input[name=code]").fill(totp.at(totp_clock.now))
    page.get_by_role("button", name="Confirm and switch on").click()

    page.wait_for_url("**/account/factors/added")
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as a text file").click()
    assert download.value.suggested_filename == "diary-recovery-codes.txt"
    saved = open(download.value.path(), encoding="utf-8").read()
    assert all(code.strip() in saved for code in codes)
    page.get_by_role("link", name="I have saved them").click()
    assert page.get_by_test_id("tf-method").is_visible()

    sign_out(page)
    log_in(page, "writer@example.com", "writerpass")
    assert "/tf-validate" in page.url
    totp_clock.advance(30)
    page.locator("input[name=code]").fill(totp.at(totp_clock.now))
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_url(mfa_site + "/")
    assert "writer@example.com" in page.get_by_test_id("current-user").inner_text()
    assert csp_violations == []
