"""The tutorial's journeys, clicked through in a real Chromium."""

from __future__ import annotations

from tests.e2e.conftest import log_in


def test_test_user_logs_in_and_sees_greeting(page, demo_users):
    page.goto("/")
    assert "/login" in page.url  # anonymous visitors are sent to log in
    log_in(page, "test@me.com", "password")
    assert page.get_by_role("heading", name="Hello, Test User").is_visible()
