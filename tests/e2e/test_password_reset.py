"""Forgot password, clicked through in a real Chromium: ask for a reset, open the
link from the mail, choose a new password, log in with it."""

from __future__ import annotations

import pytest

from tests.conftest import mail_link, sent_mails
from tests.e2e.conftest import log_in

NEW_PASSWORD = "saffron kettle drifting comet"


@pytest.mark.e2e
def test_forgot_password_then_reset_by_mail_link_then_log_in(app, live_server, page, demo_users):
    page.goto("/login")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Email address").fill("writer@example.com")
    page.get_by_role("button", name="Send reset link").click()
    page.wait_for_load_state()
    assert page.get_by_text("Instructions to reset your password have been sent").is_visible()

    [message] = sent_mails(app)
    assert message.to == ["writer@example.com"]
    link = mail_link(message, "/reset/")
    assert link.startswith(live_server + "/reset/")

    page.goto(link)
    page.get_by_label("Password", exact=True).fill("Summer2026!")
    page.get_by_label("Confirm password").fill("Summer2026!")
    page.get_by_role("button", name="Set new password").click()
    page.wait_for_load_state()
    # Refused, with the reason next to the field; the same link still works.
    assert page.get_by_text("Use at least 12 characters").is_visible()

    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    page.wait_for_load_state()
    assert page.url.endswith("/login")

    log_in(page, "writer@example.com", "writerpass")
    assert page.url.endswith("/login")  # the old password is gone
    log_in(page, "writer@example.com", NEW_PASSWORD)
    assert page.get_by_test_id("current-user").is_visible()

    # The link was spent by the reset.
    page.goto(link)
    assert page.url.endswith("/reset")
    assert page.get_by_text("each link works only once").is_visible()
