"""``TRUSTED_PROXIES``: the client address behind a reverse proxy."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diary import create_app
from diary.extensions import db
from diary.models import AuditEvent
from tests.conftest import base_config


def make(database_url, tmp_path, proxies):
    config = base_config(database_url, str(tmp_path / f"i{proxies}"))
    return create_app(config | {"TRUSTED_PROXIES": proxies})


def failed_login_ip(app, forwarded_for):
    client = app.test_client()
    client.post(
        "/login",
        data={"email": "nobody@example.com", "password": "x"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEvent.ip).order_by(AuditEvent.id.desc())
        ).first()


def test_without_proxies_forwarded_headers_are_ignored(app, database_url, tmp_path):
    app = make(database_url, tmp_path, 0)
    app.config["WTF_CSRF_ENABLED"] = False
    assert failed_login_ip(app, "203.0.113.9") == "127.0.0.1"


def test_one_proxy_takes_the_address_it_saw(app, database_url, tmp_path):
    app = make(database_url, tmp_path, 1)
    app.config["WTF_CSRF_ENABLED"] = False
    # The client claimed 198.51.100.1 itself; the proxy appended what it saw.
    assert failed_login_ip(app, "198.51.100.1, 203.0.113.9") == "203.0.113.9"


def test_rate_limits_key_on_the_forwarded_address(app, database_url, tmp_path):
    # (``app`` empties the tables afterwards: these attempts are audited.)
    app = make(database_url, tmp_path, 1)
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["LIMIT_LOGIN_PER_IP"] = "1 per minute"
    client = app.test_client()

    def attempt(ip):
        return client.post(
            "/login", data={"email": "a@example.com", "password": "x"},
            headers={"X-Forwarded-For": ip},
        ).status_code

    assert attempt("203.0.113.1") == 200
    assert attempt("203.0.113.1") == 429
    assert attempt("203.0.113.2") == 200


def test_a_negative_count_is_refused(database_url, tmp_path):
    with pytest.raises(ValueError):
        make(database_url, tmp_path, -1)
