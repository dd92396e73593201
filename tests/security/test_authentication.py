"""Login, logout, registration and redirects through Flask-Security's real forms."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa

from diary.extensions import db
from diary.models import User
from tests.conftest import csrf_token


def test_anonymous_is_sent_to_login_and_back_to_the_page_asked_for(client, auth, demo_users):
    response = client.get("/entry/1?x=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    next_url = response.headers["Location"].split("next=", 1)[1]

    response = auth.login(next=next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/entry/1?x=1"


def test_every_diary_page_needs_login(client):
    for path in ("/", "/entry/1", "/edit_entry/1", "/all"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_login_success_shows_greeting(client, auth, demo_users):
    response = auth.login("test@me.com", "password")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Test User" in page


def test_unknown_email_and_wrong_password_get_the_same_answer(client, auth, demo_users):
    unknown = auth.login("nobody@example.com", "writerpass")
    wrong = auth.login("writer@example.com", "not-the-password")
    assert unknown.status_code == wrong.status_code == 200

    def errors(response):
        html = response.get_data(as_text=True)
        return sorted(set(__import__("re").findall(r'class="fs-error-msg">([^<]+)<', html)))

    assert errors(unknown) == errors(wrong)
    assert errors(unknown), "a failed login must say something"
    # Nothing in either page names the account's existence.
    for response in (unknown, wrong):
        text = response.get_data(as_text=True).lower()
        assert "not exist" not in text and "not found" not in text and "invalid password" not in text
    assert client.get("/").status_code == 302


def test_register_creates_an_unconfirmed_writer_who_cannot_log_in_yet(client, app, auth):
    token = csrf_token(client, "/register")
    response = client.post(
        "/register",
        data={
            "email": "new.person@example.org",
            "password": "a fine long passphrase",
            "password_confirm": "a fine long passphrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    # Not logged in: the address must be confirmed first (see tests/functional).
    assert client.get("/").status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "new.person@example.org"))
        assert [r.name for r in user.roles] == ["Writer"]
        assert user.confirmed_at is None
    # The right password before confirming gets the same answer as a wrong one.
    right = auth.login("new.person@example.org", "a fine long passphrase")
    wrong = auth.login("new.person@example.org", "not the password at all")
    assert right.status_code == wrong.status_code == 200
    assert client.get("/").status_code == 302

    def errors(response):
        html = response.get_data(as_text=True)
        return sorted(set(__import__("re").findall(r'class="fs-error-msg">([^<]+)<', html)))

    assert errors(right) == errors(wrong) and errors(right)


def test_register_works_without_dns_for_any_syntactically_valid_address(client, app):
    # This domain has no DNS records (and this machine may have no DNS at all): a
    # deliverability check would refuse it.
    token = csrf_token(client, "/register")
    response = client.post(
        "/register",
        data={
            "email": "someone@nxdomain-diary-test-3f9a.net",
            "password": "a fine long passphrase",
            "password_confirm": "a fine long passphrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302


def test_register_refuses_a_malformed_address(client, app):
    token = csrf_token(client, "/register")
    response = client.post(
        "/register",
        data={
            "email": "not-an-address",
            "password": "a fine long passphrase",
            "password_confirm": "a fine long passphrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    assert "fs-error-msg" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_passwords_are_stored_as_argon2id(client, app, demo_users):
    with app.app_context():
        hashes = db.session.scalars(sa.select(User.password)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any("password" in h or "adminpass" in h for h in hashes)


def test_get_logout_does_not_log_out(client, auth, demo_users):
    auth.login()
    response = client.get("/logout")
    assert response.status_code == 405
    assert client.get("/").status_code == 200


def test_post_logout_logs_out(client, auth, demo_users):
    auth.login()
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_logout_without_csrf_token_is_refused(client, auth, demo_users):
    auth.login()
    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get("/").status_code == 200


EVIL_NEXTS = ("https://evil.example/", "//evil.example/", "/\\evil.example", "https:evil.example")


def test_login_page_drops_a_next_that_leaves_the_site(client, auth, demo_users):
    for evil in EVIL_NEXTS:
        response = client.get("/login", query_string={"next": evil})
        assert response.status_code == 302, evil
        assert response.headers["Location"] == "/login"
    # and the login form reached that way logs in and stays here
    response = auth.login()
    assert response.headers["Location"] == "/"


def test_login_post_with_offsite_next_never_redirects_off_site(client, auth, demo_users):
    for evil in EVIL_NEXTS:
        token = csrf_token(client)
        response = client.post(
            "/login", query_string={"next": evil},
            data={"email": "writer@example.com", "password": "writerpass", "csrf_token": token},
        )
        location = response.headers.get("Location", "")
        # Resolve it the lenient way browsers do (backslash as slash).
        target = urlsplit(urljoin("http://localhost/login", location.replace("\\", "/")))
        assert target.netloc == "localhost", (evil, location)
        if response.status_code == 302:
            auth.logout()


def test_login_without_csrf_token_is_refused(client, demo_users):
    response = client.post("/login", data={"email": "writer@example.com", "password": "writerpass"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, auth, demo_users):
    response = auth.login()
    cookies = [v for k, v in response.headers.items() if k == "Set-Cookie"]
    session = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session
    assert "SameSite=Lax" in session
    assert "Secure" not in session  # quick start runs over plain http
