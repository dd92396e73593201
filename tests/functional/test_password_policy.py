"""The password policy on the registration form: each refusal says why next to the
password field, nothing is created and nothing is mailed."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import User
from tests.conftest import csrf_token, sent_mails

EMAIL = "dana.reeves@example.org"


def register(client, password, email=EMAIL):
    return client.post("/register", data={
        "email": email, "password": password, "password_confirm": password,
        "csrf_token": csrf_token(client, "/register")})


def password_field(html: str) -> str:
    """Return the part of the page that holds the password field and its errors."""
    start = html.index('id="password-ctr"')
    return html[start:html.index('id="password_confirm-ctr"', start)]


def account_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password", "Use at least 12 characters"),
        ("Summer2026!", "Use at least 12 characters"),
        (EMAIL, "Do not use your email address as your password."),
        ("danareeves1990", "built from your email address"),
        ("passwordpassword", "This password is too easy to guess."),
        ("Password12345678", "This password is too easy to guess."),
        ("x" * 129, "Use at most 128 characters."),
    ],
)
def test_weak_passwords_are_refused_with_the_reason_next_to_the_field(
    app, client, password, reason
):
    response = register(client, password)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert reason in password_field(html)
    assert 'class="fs-error-msg"' in password_field(html)
    # what was typed into the email field is kept, so nothing is lost
    assert f'value="{EMAIL}"' in html
    assert account_count(app) == 0
    assert sent_mails(app) == []


@pytest.mark.parametrize(
    "password",
    [
        "lantern orbit quietly mango",
        "plumcrownsailingmeteor",  # no digits, no capitals, no symbols: fine
        "lantern orbit quietly mango violet harbour seventeen kites copper whistle",  # > 72
        "ünïcødé pässphräse wïth äccents",
    ],
)
def test_strong_passwords_are_accepted(app, client, password):
    response = register(client, password)
    assert response.status_code == 302
    assert account_count(app) == 1


def test_password_fields_allow_pasting_and_password_managers(client):
    html = client.get("/register").get_data(as_text=True)
    inputs = re.findall(r"<input[^>]*type=\"password\"[^>]*>", html)
    assert len(inputs) == 2
    for tag in inputs:
        assert "onpaste" not in tag and "oncopy" not in tag and "maxlength" not in tag


def test_every_choose_a_password_page_states_the_policy(app, client, auth, demo_users):
    from tests.conftest import mail_link

    assert "At least 12 characters" in client.get("/register").get_data(as_text=True)
    client.post("/reset", data={
        "email": "writer@example.com", "csrf_token": csrf_token(client, "/reset")})
    reset = mail_link(sent_mails(app)[0], "/reset/")
    from tests.conftest import link_path

    assert "At least 12 characters" in client.get(link_path(reset)).get_data(as_text=True)
    auth.login()
    html = client.get("/change").get_data(as_text=True)
    assert "At least 12 characters" in html
    assert 'autocomplete="current-password"' in html and 'autocomplete="new-password"' in html
