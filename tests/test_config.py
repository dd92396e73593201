"""Settings: defaults, ``DIARY_*`` environment variables, overrides and what
:func:`diary.config.finalize` derives from them."""

from __future__ import annotations

import ast
import inspect
import os
from datetime import timedelta

import subprocess
import sys
from pathlib import Path

import pytest

from diary import config, create_app
from tests.conftest import base_config, csrf_token

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    """Build an app on a throw-away SQLite file with the given environment."""
    # Settings from the developer's or CI's shell must not leak into these tests.
    for name in list(os.environ):
        if name.startswith("DIARY_") and not name.startswith("DIARY_TEST_"):
            monkeypatch.delenv(name)

    def _make(env: dict[str, str] | None = None, **overrides):
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        settings = base_config("sqlite:///" + str(tmp_path / "config.sqlite3"), str(tmp_path / "i"))
        del settings["DATABASE_URL"]
        settings.update(overrides)
        return create_app(settings)

    return _make


def run_in_fresh_process(code: str, env: dict[str, str], tmp_path) -> str:
    """Run ``code`` in a new Python process (one app per process, as in production)
    with ``env`` added; return what it printed.

    Flask-Security's ``Security`` object is shared by every app of a process and
    takes a feature flag from the first app that switched it on, so a feature
    switched *off* can only be checked in a process of its own.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIARY_")}
    environment.update(DIARY_INSTANCE_PATH=str(tmp_path / "fresh"),
                       DIARY_DATABASE_URL="sqlite:///" + str(tmp_path / "fresh.sqlite3"))
    environment.update(env)
    done = subprocess.run([sys.executable, "-c", code], env=environment, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return done.stdout


REGISTER_PAGES = """
from diary import create_app
client = create_app({"TESTING": True}).test_client()
print(client.get("/register").status_code, 'href="/register"' in client.get("/login").get_data(as_text=True))
"""


def test_registerable_false_in_the_environment_turns_register_off(tmp_path, database_url):
    # On the migrated test database: the pages' sessions are stored in it.
    on = {"DIARY_DATABASE_URL": database_url}
    assert run_in_fresh_process(REGISTER_PAGES, on, tmp_path).split() == ["200", "True"]
    off = {**on, "DIARY_SECURITY_REGISTERABLE": "false"}
    assert run_in_fresh_process(REGISTER_PAGES, off, tmp_path).split() == ["404", "False"]


def test_entry_max_length_from_the_environment_is_a_number(make_app):
    app = make_app({"DIARY_ENTRY_MAX_LENGTH": "500"})
    assert app.config["ENTRY_MAX_LENGTH"] == 500


def test_overrides_given_to_create_app_beat_the_environment(make_app):
    app = make_app({"DIARY_ENTRY_MAX_LENGTH": "500"}, ENTRY_MAX_LENGTH=42)
    assert app.config["ENTRY_MAX_LENGTH"] == 42


def test_quick_start_cookies_are_not_secure_but_httponly_and_lax(make_app):
    app = make_app()
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["REMEMBER_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_https_true_gives_secure_cookies_and_https_urls(make_app):
    app = make_app({"DIARY_HTTPS": "true"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["PREFERRED_URL_SCHEME"] == "https"


def test_https_login_sets_secure_session_and_remember_cookies(database_url, tmp_path, monkeypatch, demo_users):
    monkeypatch.setenv("DIARY_HTTPS", "true")
    app = create_app(base_config(database_url, str(tmp_path / "https")))
    client = app.test_client()
    base = "https://localhost"
    token = csrf_token(client, base + "/login")
    response = client.post(
        base + "/login",
        data={"email": "writer@example.com", "password": "writerpass", "remember": "y",
              "csrf_token": token},
        headers={"Referer": base + "/login"},  # Flask-WTF checks it on HTTPS
    )
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert "Secure" in cookies["session"]
    assert "Secure" in cookies["diary_remember"]
    assert "HttpOnly" in cookies["diary_remember"]


def test_database_url_from_the_environment(make_app, tmp_path):
    url = "sqlite:///" + str(tmp_path / "elsewhere.sqlite3")
    app = make_app({"DIARY_DATABASE_URL": url})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_default_database_is_sqlite_in_the_instance_folder(make_app):
    app = make_app()
    expected = "sqlite:///" + os.path.join(app.instance_path, "diary.sqlite3")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected


def test_redis_url_becomes_the_rate_limit_storage():
    settings = {"REDIS_URL": ""}
    config.finalize(settings, "/srv/diary")
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    settings = {"REDIS_URL": "redis://127.0.0.1:6379/1"}
    config.finalize(settings, "/srv/diary")
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/1"


def test_session_store_records_live_the_idle_timeout(make_app):
    """Flask's PERMANENT_SESSION_LIFETIME is how long the session store keeps a
    record after its last write: Diary derives it from SESSION_IDLE_TIMEOUT."""
    app = make_app({"DIARY_SESSION_IDLE_TIMEOUT": "3600"})
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=1)
    assert app.config["SESSION_REFRESH_EACH_REQUEST"] is False


# --- durations ---------------------------------------------------------------------

def test_freshness_in_seconds_from_the_environment_starts_the_app(make_app):
    # It stopped the app at start: Flask-Security's init_app read .total_seconds()
    # of an int before Diary's own conversion ran.
    app = make_app({"DIARY_SECURITY_FRESHNESS": "5", "DIARY_SECURITY_FRESHNESS_GRACE_PERIOD": "5"})
    assert app.config["SECURITY_FRESHNESS"] == timedelta(seconds=5)
    assert app.config["SECURITY_FRESHNESS_GRACE_PERIOD"] == timedelta(seconds=5)


@pytest.mark.parametrize("name", sorted(config.DURATIONS))
def test_every_duration_is_seconds_in_the_environment(make_app, name):
    app = make_app({f"DIARY_{name}": "5"})
    if config.DURATIONS[name] is config.Duration.TIMEDELTA:
        assert app.config[name] == timedelta(seconds=5)
    else:
        assert app.config[name] == 5 and type(app.config[name]) is int


@pytest.mark.parametrize("name", sorted(config.DURATIONS))
def test_every_duration_takes_a_timedelta_or_seconds_in_code(make_app, name):
    as_timedelta = config.DURATIONS[name] is config.Duration.TIMEDELTA
    for value in (timedelta(seconds=90), 90, 90.0):
        app = make_app(**{name: value})
        assert app.config[name] == (timedelta(seconds=90) if as_timedelta else 90), value
    app = make_app(**{name: 1.5})
    assert app.config[name] == (timedelta(seconds=1.5) if as_timedelta else 1.5)


def test_every_timedelta_default_is_a_declared_duration():
    for name, value in default_settings().items():
        if isinstance(value, timedelta):
            assert name in config.DURATIONS, f"{name}: add it to config.DURATIONS"


def test_every_timedelta_setting_of_the_app_is_a_declared_duration(make_app):
    # Flask's and Flask-Security's own defaults included: a new duration setting of
    # a library (or a forgotten one of Diary's) fails here until it is declared.
    app = make_app()
    undeclared = {name for name, value in app.config.items()
                  if isinstance(value, timedelta) and name not in config.DURATIONS}
    # Derived from SESSION_IDLE_TIMEOUT by finalize(), never set on its own.
    assert undeclared == {"PERMANENT_SESSION_LIFETIME"}


def test_no_limit_is_null_where_a_duration_allows_it(make_app):
    app = make_app({"DIARY_WTF_CSRF_TIME_LIMIT": "null"})
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


@pytest.mark.parametrize("value", ["-1", "-0.5", "abc", "true", "[5]", "NaN", "Infinity", "null", "1e20"])
def test_a_bad_duration_stops_the_app_with_one_line_naming_the_variable(make_app, value):
    with pytest.raises(ValueError) as info:
        make_app({"DIARY_SECURITY_FRESHNESS": value})
    message = str(info.value)
    assert "DIARY_SECURITY_FRESHNESS" in message and "seconds" in message
    assert "\n" not in message


def test_a_bad_duration_in_code_is_refused_too(make_app):
    with pytest.raises(ValueError, match="DIARY_SESSION_IDLE_TIMEOUT"):
        make_app(SESSION_IDLE_TIMEOUT=timedelta(seconds=-1))
    with pytest.raises(ValueError, match="DIARY_LOCKOUT_DURATION"):
        make_app(LOCKOUT_DURATION="15 minutes")


def test_instance_path_from_the_environment(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv("DIARY_INSTANCE_PATH", str(tmp_path / "moved"))
    settings = base_config("sqlite:///" + str(tmp_path / "x.sqlite3"), "")
    del settings["INSTANCE_PATH"]
    app = create_app(settings)
    assert app.instance_path == str(tmp_path / "moved")


def default_settings() -> dict[str, object]:
    """Return every setting in :class:`diary.config.Defaults` with its value."""
    return {name: value for name, value in vars(config.Defaults).items() if name.isupper()}


def test_every_default_reaches_the_app(make_app):
    app = make_app()
    set_by_tests = set(base_config("sqlite://", "/nowhere"))
    for name, value in default_settings().items():
        if name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
            continue  # derived from HTTPS
        if name == "MAIL_FILE_PATH":
            assert app.config[name] == os.path.join(app.instance_path, "mail")
            continue  # empty means "mail" in the instance folder
        if name == "SQLALCHEMY_ENGINE_OPTIONS":
            assert app.config[name] == {"hide_parameters": True, **value}
            continue  # SQL parameters kept out of logged errors (diary.logs)
        if name in set_by_tests:
            continue  # the test apps' own value (tests/conftest.py base_config)
        assert app.config[name] == value, name


def test_every_setting_has_a_comment_just_above_it():
    source = inspect.getsource(config.Defaults)
    lines = source.splitlines()
    tree = ast.parse(source)
    (cls,) = tree.body
    for node in cls.body:
        if isinstance(node, ast.Assign):
            above = lines[node.lineno - 2].strip()
            assert above.startswith("#") and len(above) > 2, node.targets[0].id


def test_secrets_have_no_default():
    assert "SECRET_KEY" not in default_settings()
    assert "SECURITY_PASSWORD_SALT" not in default_settings()


@pytest.mark.parametrize("language", ["english", "simple", "german"])
def test_search_language_takes_configuration_names(language):
    config.finalize({"SEARCH_LANGUAGE": language}, "/srv/diary")


@pytest.mark.parametrize("language", ["", "english'); DROP TABLE entry; --", "pg_catalog.english", "English"])
def test_search_language_refuses_anything_else(language):
    # It is written into the migration's SQL: a plain lower-case name only.
    with pytest.raises(ValueError, match="SEARCH_LANGUAGE"):
        config.finalize({"SEARCH_LANGUAGE": language}, "/srv/diary")
