"""Your devices, in a real Chromium: sign in on two browsers, see both on
/account/sessions, sign the other one out from the first, and the other one is
sent to the login page at its next click."""

from __future__ import annotations

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails where browsers are required
    expect = None

from tests.e2e.conftest import log_in

EMAIL, PASSWORD = "traveller@example.com", "a-long-password"


def test_sign_out_another_device(browser, live_server, context, make_user):
    make_user(EMAIL, PASSWORD)
    laptop = context.new_page()
    phone_context = browser.new_context(
        base_url=live_server,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    )
    phone_context.set_default_timeout(10_000)
    try:
        phone = phone_context.new_page()
        log_in(phone, EMAIL, PASSWORD)
        expect(phone.get_by_role("heading", name=f"Hello, {EMAIL}")).to_be_visible()
        log_in(laptop, EMAIL, PASSWORD)

        laptop.goto("/account")
        laptop.get_by_role("link", name="the devices you are signed in on").click()
        rows = laptop.locator("tr[data-device]")
        expect(rows).to_have_count(2)
        this_device = laptop.locator("tr[aria-current=true]")
        expect(this_device).to_contain_text("this device")
        other = laptop.locator("tr[data-device]:not([aria-current])")
        expect(other).to_contain_text("Safari on iOS")

        other.get_by_role("button", name="Sign out").click()
        expect(laptop.get_by_text("That device has been signed out.")).to_be_visible()
        expect(rows).to_have_count(1)

        phone.get_by_role("link", name="My diary").click()
        expect(phone).to_have_url(f"{live_server}/login?next=/")
        # The laptop is still signed in.
        laptop.goto("/")
        expect(laptop.get_by_role("heading", name=f"Hello, {EMAIL}")).to_be_visible()
    finally:
        phone_context.close()
