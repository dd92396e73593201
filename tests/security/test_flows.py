"""diary.security.flows: the wiring of mail and account flows, and its ``duration``
filter used in mails."""

from __future__ import annotations

from datetime import timedelta

import pytest

from diary.security.flows import duration


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(days=2), "2 days"),
        (timedelta(minutes=30), "30 minutes"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(seconds=45), "45 seconds"),
    ],
)
def test_duration(value, words):
    assert duration(value) == words


def test_flows_are_switched_on_by_default(app):
    from diary.security.core import security

    with app.app_context():
        assert security.confirmable and security.recoverable
        assert security.changeable and security.change_email
    assert app.config["SECURITY_RESET_PASSWORD_WITHIN"] == timedelta(hours=1)
    assert app.jinja_env.filters["duration"] is duration


def test_link_lifetimes_can_be_set_in_seconds_from_the_environment(monkeypatch, database_url,
                                                                     tmp_path):
    from diary import create_app
    from tests.conftest import base_config

    monkeypatch.setenv("DIARY_SECURITY_RESET_PASSWORD_WITHIN", "1800")
    app = create_app(base_config(database_url, str(tmp_path / "instance")))
    assert app.config["SECURITY_RESET_PASSWORD_WITHIN"] == timedelta(minutes=30)


def test_reset_mail_says_how_long_its_link_works(app, client, demo_users):
    from tests.conftest import csrf_token, sent_mails

    client.post("/reset", data={
        "email": "writer@example.com", "csrf_token": csrf_token(client, "/reset")})
    [message] = sent_mails(app)
    assert "works for 1 hour and only once" in message.body


def test_account_page_has_the_credentials_section(client, auth, demo_users):
    auth.login()
    html = client.get("/account").get_data(as_text=True)
    assert "Password and email" in html
    assert 'href="/change"' in html and 'href="/change-email"' in html
