"""Rate limits on Flask-Security's endpoints: in memory, and in Redis shared by two
app instances."""

from __future__ import annotations

import os
import uuid

import pytest

from diary import create_app
from tests.conftest import app_on_test_database, base_config, csrf_token

TEST_REDIS_URL = os.environ.get("DIARY_TEST_REDIS_URL", "")


def login(client, password="wrong", **headers):
    return client.post(
        "/login",
        data={"email": "nobody@example.com", "password": password,
              "csrf_token": csrf_token(client)},
        headers=headers,
    )


def test_eleventh_login_in_a_minute_gets_a_429_page_with_retry_after(client):
    for _ in range(10):
        assert login(client).status_code == 200
    response = login(client)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "text/html" in response.content_type
    assert "Slow down" in response.get_data(as_text=True)
    # Looking at the form is not an attempt.
    assert client.get("/login").status_code == 200


def test_json_requests_get_a_json_429(client):
    for _ in range(10):
        login(client)
    token = csrf_token(client)
    response = client.post(
        "/login", json={"email": "a@example.com", "password": "x"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 429
    assert response.is_json
    assert response.get_json()["meta"]["code"] == 429
    assert response.get_json()["response"]["errors"]
    assert int(response.headers["Retry-After"]) >= 1


def test_registration_is_limited_per_ip(client):
    for i in range(5):
        token = csrf_token(client, "/register")
        response = client.post("/register", data={"email": "bad", "csrf_token": token})
        assert response.status_code == 200, i
    token = csrf_token(client, "/register")
    assert client.post("/register", data={"email": "bad", "csrf_token": token}).status_code == 429


@pytest.fixture
def recoverable_app(database_url, tmp_path):
    with app_on_test_database(
        database_url, tmp_path, SECURITY_RECOVERABLE=True, SECURITY_CONFIRMABLE=True
    ) as app:
        yield app


def test_reset_requests_are_limited_per_address_and_per_ip(recoverable_app):
    client = recoverable_app.test_client()

    def ask(email):
        token = csrf_token(client, "/reset")
        return client.post("/reset", data={"email": email, "csrf_token": token})

    for _ in range(3):
        assert ask("victim@example.com").status_code != 429
    assert ask("Victim@Example.com").status_code == 429  # 3 per hour per address
    assert ask("other@example.com").status_code != 429  # 5th from this IP
    assert ask("third@example.com").status_code == 429  # 6th from this IP


def test_confirmation_resends_are_limited_per_address(recoverable_app):
    client = recoverable_app.test_client()

    def resend(email):
        token = csrf_token(client, "/confirm")
        return client.post("/confirm", data={"email": email, "csrf_token": token})

    for _ in range(3):
        assert resend("new@example.com").status_code != 429
    assert resend("new@example.com").status_code == 429
    assert resend("someone-else@example.com").status_code != 429


def test_confirmation_resends_are_limited_per_ip(recoverable_app):
    """Five resends an hour from one IP (a different address each time, so the
    per-address limit never bites), then 429 with Retry-After, as a page and as
    JSON; asking about yet another address does not help."""
    client = recoverable_app.test_client()

    def resend(email, **kw):
        token = csrf_token(client, "/confirm")
        if kw.pop("as_json", False):
            return client.post("/confirm", json={"email": email},
                               headers={"X-CSRF-Token": token})
        return client.post("/confirm", data={"email": email, "csrf_token": token})

    for i in range(5):
        assert resend(f"new{i}@example.com").status_code == 200, i
    refused = resend("new5@example.com")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert "Slow down" in refused.get_data(as_text=True)
    refused = resend("new6@example.com", as_json=True)
    assert refused.status_code == 429 and refused.is_json
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    # Another client is not affected.
    other = recoverable_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    token = csrf_token(other, "/confirm")
    assert other.post("/confirm", data={"email": "new7@example.com",
                                        "csrf_token": token}).status_code == 200


@pytest.mark.integration
@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set DIARY_TEST_REDIS_URL")
def test_two_instances_share_the_login_limit_through_redis(app, database_url, tmp_path):
    # (``app`` empties the tables afterwards: these attempts are audited.)
    # A key prefix of its own: counts of other tests (or runs) never leak in.
    prefix = f"test-{uuid.uuid4().hex}"
    apps = [
        create_app(
            base_config(database_url, str(tmp_path / f"instance{i}"))
            | {"REDIS_URL": TEST_REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
        )
        for i in range(2)
    ]
    from diary.services import ratelimits

    # Two instances, each with its own storage object: only Redis is shared.
    first, second = (app.extensions[ratelimits.EXTENSION_KEY] for app in apps)
    assert first is not second
    assert first.storage is not second.storage
    assert type(first.storage).__name__ == "RedisStorage"

    clients = [app.test_client() for app in apps]
    statuses = [login(clients[i % 2]).status_code for i in range(10)]
    assert statuses == [200] * 10
    for client in clients:
        response = login(client)
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 60
