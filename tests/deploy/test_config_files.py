"""The shipped deploy/ files say what docs/deploy.md and docs/logging.md promise:
no access log of raw paths, a body limit that lets the largest import through,
gunicorn's settings read from the environment (a bad value stops it)."""

from __future__ import annotations

import os
import re
import runpy

import pytest

from diary.config import Defaults
from diary.security.body_limit import FORM_OVERHEAD
from tests.support.stack import GUNICORN_CONF, NGINX_SITE

SIZE_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    for name in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT",
                 "GUNICORN_GRACEFUL_TIMEOUT", "GUNICORN_FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    # The file tells the app its worker count in os.environ: undone after the test.
    monkeypatch.setenv("DIARY_SERVER_PROCESSES", "")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_writes_no_access_log_and_logs_to_stderr(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    assert settings["accesslog"] is None and settings["errorlog"] == "-"
    assert settings["forwarded_allow_ips"] == "127.0.0.1"
    assert settings["worker_class"] == "sync" and settings["preload_app"] is True


def test_gunicorn_reads_its_environment(monkeypatch):
    settings = gunicorn_settings(monkeypatch, GUNICORN_BIND="10.0.0.5:8001, 10.0.0.5:8002",
                                 WEB_CONCURRENCY="3", GUNICORN_THREADS="4")
    assert settings["bind"] == ["10.0.0.5:8001", "10.0.0.5:8002"]
    assert settings["workers"] == 3
    assert os.environ["DIARY_SERVER_PROCESSES"] == "3"  # what diary.production checks
    assert settings["threads"] == 4 and settings["worker_class"] == "gthread"


@pytest.mark.parametrize("value", ["0", "-2", "three"])
def test_a_bad_worker_count_stops_gunicorn(monkeypatch, value):
    with pytest.raises(ValueError):
        gunicorn_settings(monkeypatch, WEB_CONCURRENCY=value)


def test_nginx_body_limit_lets_the_largest_import_through():
    value = re.search(r"^\s*client_max_body_size (\d+)([kmg]?);", NGINX_SITE.read_text(), re.M)
    assert value, "client_max_body_size is not set"
    limit = int(value.group(1)) * SIZE_UNITS[value.group(2)]
    assert limit >= Defaults.IMPORT_MAX_BYTES + FORM_OVERHEAD
    assert limit >= Defaults.MAX_CONTENT_LENGTH


def test_nginx_logs_no_request_line():
    text = NGINX_SITE.read_text()
    formats = re.findall(r"log_format\s+\S+\s+((?:'[^']*'\s*)+);", text)
    assert formats, "no log_format"
    for fmt in formats:
        for variable in ("$request ", "$request'", "$request_uri", "$uri", "$args",
                         "$query_string", "$http_referer"):
            assert variable not in fmt
    for line in re.findall(r"^\s*access_log\s+([^;]*);", text, re.M):
        assert line == "off" or line.split()[-1] in {"diary_no_uri"}
