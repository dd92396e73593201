"""Registration with confirmation, clicked through in a real Chromium: register,
open the mailed link, press the confirm button, log in."""

from __future__ import annotations

import pytest

from tests.conftest import mail_link, sent_mails
from tests.e2e.conftest import log_in

EMAIL = "erin.walsh@example.org"
PASSWORD = "tundra pepper ladder bright"


@pytest.mark.e2e
def test_register_confirm_by_mail_then_log_in(app, live_server, page):
    page.goto("/register")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state()
    assert page.get_by_text("please click on the link in the email").is_visible()

    log_in(page, EMAIL, PASSWORD)  # not confirmed yet: refused
    assert page.url.endswith("/login")

    [welcome] = sent_mails(app)
    page.goto(mail_link(welcome, "/confirm/"))
    page.get_by_role("button", name="Confirm your email address").click()
    page.wait_for_load_state()

    log_in(page, EMAIL, PASSWORD)
    assert page.get_by_test_id("current-user").is_visible()
