"""Fixtures for the JSON API: a client that signs in each of the three ways.

``api_login(way, email, password)`` returns an :class:`ApiClient` for that user:

- ``"pat"``: a personal access token (both scopes) as ``Authorization: Bearer``;
- ``"auth-token"``: a Flask-Security auth token from ``POST /login`` JSON with
  ``include_auth_token``, sent as ``Authentication-Token`` by a client with no
  cookies at all;
- ``"session"``: the browser session from the login form, with the CSRF token in
  ``X-CSRFToken`` on unsafe methods.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from diary.extensions import db, limiter
from diary.models import User
from diary.models.types import Strength
from diary.services import tokens
from tests.conftest import AuthActions, csrf_token

WAYS = ("pat", "auth-token", "session")
SAFE = {"GET", "HEAD", "OPTIONS"}
PASSWORDS = {
    "writer@example.com": "writerpass",
    "admin@example.com": "adminpass",
    "test@me.com": "password",
}


class ApiClient:
    """A test client that adds one way of signing in to every request."""

    def __init__(self, client, headers=None, csrf=None, way=None, secret=None):
        self.client = client
        self.headers = dict(headers or {})
        self.csrf = csrf
        self.way = way
        self.secret = secret

    def open(self, method, path, headers=None, **kwargs):
        all_headers = dict(self.headers)
        if self.csrf and method not in SAFE:
            all_headers["X-CSRFToken"] = self.csrf
        all_headers.update(headers or {})
        return self.client.open(path, method=method, headers=all_headers, **kwargs)

    def get(self, path, **kw):
        return self.open("GET", path, **kw)

    def post(self, path, **kw):
        return self.open("POST", path, **kw)

    def patch(self, path, **kw):
        return self.open("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.open("DELETE", path, **kw)


def make_pat(
    app,
    email,
    scopes=("entries:read", "entries:write"),
    lifetime=timedelta(days=90),
    name="test",
    strength=Strength.PASSWORD,
):
    """Create a personal access token for ``email``, as a session of ``strength``
    would; return (secret, token id)."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        new = tokens.create_token(user, name, list(scopes), lifetime, strength=strength)
        return new.secret, new.token.id


def login_auth_token(app, email, password):
    """Sign in through POST /login (JSON) and return the login response's JSON."""
    browser = app.test_client()
    csrf = browser.get("/login", headers={"Accept": "application/json"}).get_json()
    response = browser.post(
        "/login?include_auth_token",
        json={"email": email, "password": password},
        headers={"X-CSRFToken": csrf["response"]["csrf_token"]},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]["user"]


@pytest.fixture(autouse=True)
def fresh_rate_limits(app):
    """Start every API test with empty rate-limit counters: with a shared storage
    (Redis in CI) and user ids reused from test to test, earlier tests' requests
    would otherwise count against this one's 300/minute."""
    with app.app_context():
        limiter.reset()


@pytest.fixture
def api_login(app):
    def _login(way, email="writer@example.com", password=None, **pat_kwargs):
        password = password or PASSWORDS.get(email, "a-long-password")
        if way == "pat":
            secret, _ = make_pat(app, email, **pat_kwargs)
            return ApiClient(
                app.test_client(), {"Authorization": f"Bearer {secret}"}, way=way, secret=secret
            )
        if way == "auth-token":
            token = login_auth_token(app, email, password)["authentication_token"]
            return ApiClient(app.test_client(), {"Authentication-Token": token}, way=way)
        if way == "session":
            browser = app.test_client()
            response = AuthActions(browser).login(email, password)
            assert response.status_code == 302, "login failed"
            return ApiClient(browser, csrf=csrf_token(browser, "/account/tokens"), way=way)
        raise ValueError(way)

    return _login


@pytest.fixture(params=WAYS)
def way(request):
    """Each of the three ways in, in turn."""
    return request.param


def problem_of(response, status):
    """Assert ``response`` is a problem+json with ``status``; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("/api/v1/problems/")
    assert body["title"] and body["detail"]
    return body
