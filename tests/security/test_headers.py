"""Security headers on an anonymous page, a signed-in page and a JSON answer."""

from __future__ import annotations

import pytest

from diary import create_app
from tests.conftest import base_config, csrf_token

CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def assert_common(response):
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    # Plain HTTP in development: no HSTS.
    assert "Strict-Transport-Security" not in headers


def test_anonymous_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert_common(response)
    # The login form carries a CSRF token: not stored either.
    assert response.headers["Cache-Control"] == "no-store, private"


def test_static_files_stay_cacheable(client):
    response = client.get("/static/css/diary.css")
    assert_common(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_signed_in_page_is_never_stored(client, auth, make_user):
    make_user("headers@example.com")
    auth.login("headers@example.com", "a-long-password")
    response = client.get("/")
    assert response.status_code == 200
    assert_common(response)
    assert response.headers["Cache-Control"] == "no-store, private"
    assert "True" not in response.headers["Cache-Control"]


def test_json_answer(client, make_user):
    make_user("json-headers@example.com")
    response = client.post(
        "/login",
        json={"email": "json-headers@example.com", "password": "a-long-password"},
        headers={"X-CSRF-Token": csrf_token(client)},
    )
    assert response.status_code == 200 and response.is_json
    assert_common(response)
    assert response.headers["Cache-Control"] == "no-store, private"


@pytest.fixture
def https_app(database_url, tmp_path):
    return create_app(base_config(database_url, str(tmp_path / "i")) | {"HTTPS": True})


def test_production_sends_hsts_secure_cookies_and_redirects_http(https_app, make_user):
    client = https_app.test_client()
    response = client.get("/login", base_url="https://diary.example")
    assert response.status_code == 200
    hsts = response.headers["Strict-Transport-Security"]
    assert hsts == "max-age=31536000; includeSubDomains"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert https_app.config["REMEMBER_COOKIE_SECURE"] is True

    plain = client.get("/login", base_url="http://diary.example")
    assert plain.status_code == 302
    assert plain.headers["Location"].startswith("https://diary.example/login")


def test_an_existing_cache_control_becomes_no_store_private(app):
    from flask import Response

    from diary.security.headers import no_store_when_private

    with app.test_request_context("/login"):  # the security blueprint: private
        response = no_store_when_private(
            Response("x", headers={"Cache-Control": "public, max-age=60, must-revalidate"})
        )
    directives = {d.strip() for d in response.headers["Cache-Control"].split(",")}
    assert directives == {"no-store", "private", "must-revalidate"}
