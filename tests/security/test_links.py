"""diary.security.links: absolute URLs in Flask-Security's requests use BASE_URL."""

from __future__ import annotations

import pytest
from flask import url_for

from diary.security.links import base_url_parts
from tests.conftest import csrf_token, mail_link, sent_mails


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("http://localhost:5000", ("http", "localhost:5000", "")),
        ("https://Diary.Example.net/", ("https", "diary.example.net", "")),
        ("https://example.net/diary/", ("https", "example.net", "/diary")),
    ],
)
def test_base_url_parts(url, parts):
    assert base_url_parts(url) == parts


@pytest.mark.parametrize("url", ["", "localhost:5000", "ftp://example.net", "https:///x"])
def test_base_url_must_be_absolute_http(url):
    with pytest.raises(ValueError):
        base_url_parts(url)


def test_security_views_build_absolute_urls_from_base_url(app):
    app.config["BASE_URL"] = "https://diary.example.net/journal"
    with app.test_request_context("/reset", base_url="http://evil.example"):
        app.preprocess_request()
        assert url_for("security.forgot_password", _external=True) == (
            "https://diary.example.net/journal/reset")
        # relative URLs carry the prefix too, as the proxy in front expects
        assert url_for("security.forgot_password") == "/journal/reset"


def test_other_pages_keep_the_request_host(app):
    app.config["BASE_URL"] = "https://diary.example.net"
    with app.test_request_context("/", base_url="http://localhost"):
        app.preprocess_request()
        assert url_for("web.dashboard", _external=True) == "http://localhost/"


def test_forged_host_on_a_reset_request_does_not_reach_the_mail(app, demo_users):
    app.config["BASE_URL"] = "https://diary.example.net"
    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "evil.example"
    client.post("/reset", data={
        "email": "writer@example.com", "csrf_token": csrf_token(client, "/reset")})
    link = mail_link(sent_mails(app)[0], "/reset/")
    assert link.startswith("https://diary.example.net/reset/")


def test_the_app_does_not_start_with_a_bad_base_url(database_url, tmp_path):
    from diary import create_app
    from tests.conftest import base_config

    config = base_config(database_url, str(tmp_path / "instance"))
    config["BASE_URL"] = "diary.example.net"
    with pytest.raises(ValueError, match="BASE_URL"):
        create_app(config)


def test_https_with_an_http_base_url_is_warned_about(database_url, tmp_path, caplog):
    from diary import create_app
    from tests.conftest import base_config

    config = base_config(database_url, str(tmp_path / "instance"))
    config.update(HTTPS=True, BASE_URL="http://diary.example.net")
    create_app(config)
    assert any("BASE_URL" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
