"""Password reset with mail going out over real SMTP: an aiosmtpd server started by
the test receives the mail, and the link in it resets the password exactly once."""

from __future__ import annotations

import email
import email.policy
import socket
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from diary.mail import links_in
from diary.services import accounts
from tests.conftest import AuthActions, app_on_test_database, csrf_token, link_path

SMTP_USER = "diary"
SMTP_PASSWORD = "p@ss:w/rd"  # characters that must be URL-encoded in MAIL_URL


class Inbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), session.authenticated))
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 that wants a login; yields (inbox, port)."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port,
        authenticator=_authenticator, auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_app(database_url, tmp_path, smtp_server):
    """A Diary app whose mail goes to ``smtp_server`` through ``MAIL_URL``."""
    _inbox, port = smtp_server
    with app_on_test_database(
        database_url,
        tmp_path,
        MAIL_BACKEND="",  # let MAIL_URL choose (smtp)
        MAIL_URL=f"smtp://{SMTP_USER}:{quote(SMTP_PASSWORD, safe='')}@127.0.0.1:{port}",
    ) as app:
        with app.app_context():
            accounts.seed_demo_accounts()
        yield app


def test_reset_mail_arrives_over_smtp_and_its_link_works_once(smtp_app, smtp_server):
    inbox, _port = smtp_server
    assert smtp_app.config["MAIL_BACKEND"] == "smtp"
    client = smtp_app.test_client()
    client.post("/reset", data={
        "email": "writer@example.com", "csrf_token": csrf_token(client, "/reset")})

    [message] = inbox.messages
    [(mail_from, rcpt_tos, authenticated)] = inbox.envelopes
    assert rcpt_tos == ["writer@example.com"]
    assert mail_from == "no-reply@localhost" and authenticated
    assert message["To"] == "writer@example.com"
    assert message["Subject"] == "Reset your Diary password"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    [link] = [link for link in links_in(text) if "/reset/" in link]
    assert link.startswith("http://localhost/reset/") and link in html

    new_password = "copper whistle meadow nine"
    page = client.get(link_path(link))
    assert page.status_code == 200
    response = client.post(link_path(link), data={
        "password": new_password, "password_confirm": new_password,
        "csrf_token": csrf_token(client, "/reset")})
    assert response.headers["Location"] == "/login"
    auth = AuthActions(client)
    assert auth.login("writer@example.com", new_password).status_code == 302
    auth.logout()

    # The link is spent: using it again changes nothing.
    again = client.post(link_path(link), data={
        "password": "another fine long phrase", "password_confirm": "another fine long phrase",
        "csrf_token": csrf_token(client, "/reset")})
    assert again.headers["Location"] == "/reset"
    assert "each link works only once" in client.get("/reset").get_data(as_text=True)
    assert auth.login("writer@example.com", "another fine long phrase").status_code == 200
    assert auth.login("writer@example.com", new_password).status_code == 302
    # The "your password was reset" notice went out over SMTP as well.
    assert [m["Subject"] for m in inbox.messages][1:] == ["Your Diary password was reset"]


def test_with_the_mail_server_down_a_known_address_answers_like_an_unknown_one(
    database_url, tmp_path, caplog
):
    """The mail fails in the background and is logged; the answer does not show
    it (an error page for known addresses only would tell them apart)."""
    from diary import mail

    port = _free_port()  # nothing listens there
    with app_on_test_database(
        database_url, tmp_path, MAIL_BACKEND="", MAIL_URL=f"smtp://127.0.0.1:{port}",
        MAIL_IN_BACKGROUND=True,
    ) as app:
        with app.app_context():
            accounts.seed_demo_accounts()
        client = app.test_client()
        answers = [
            client.post("/reset", data={"email": email, "csrf_token": csrf_token(client, "/reset")})
            for email in ("writer@example.com", "nobody@example.com")
        ]
        assert [a.status_code for a in answers] == [200, 200]
        assert mail.background.flush(30)
    assert ("Mail to writer@example.com, 'Reset your Diary password', could not be sent"
            in caplog.text)
