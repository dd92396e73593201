"""Production mode (DIARY_HTTPS=true) refuses to start when unsafe, each time with
one line saying why and what to set: in-process (create_app) and as an operator
sees it (``flask --app diary …`` and gunicorn, in processes of their own)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from diary import create_app, instance_secrets, production
from diary.production import StartRefused
from tests.conftest import TEST_REDIS_URL, base_config

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Never connected to by create_app: only its form is read at start.
POSTGRES_URL = "postgresql+psycopg://diary@db.example.internal:5432/diary"
REDIS_URL = TEST_REDIS_URL or "redis://127.0.0.1:6379/2"


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    """Build an app with a complete production configuration, changed by
    ``overrides`` (a value of None removes the setting) and ``env``; no DIARY_*
    variable of the shell leaks in."""
    for name in list(os.environ):
        if name.startswith(("DIARY_", "FLASK_")) and not name.startswith("DIARY_TEST_"):
            monkeypatch.delenv(name)

    def _make(env: dict[str, str] | None = None, **overrides):
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        settings = base_config(POSTGRES_URL, str(tmp_path / "instance")) | {
            "HTTPS": True,
            "BASE_URL": "https://diary.example",
            "REDIS_URL": REDIS_URL,
            "SINGLE_PROCESS": False,
        }
        settings.update(overrides)
        return create_app({k: v for k, v in settings.items() if v is not None})

    return _make


def secrets_environment() -> dict[str, str]:
    """Return a fresh set of the four secrets as environment variables, read from
    the lines ``python -m diary.instance_secrets`` prints."""
    pairs = (shlex.split(line)[0].split("=", 1) for line in instance_secrets.environment_lines())
    return dict(pairs)


def refusal(make, *args, **kwargs) -> str:
    """Return the one-line reason ``make(*args, **kwargs)`` is refused with."""
    with pytest.raises(StartRefused) as info:
        make(*args, **kwargs)
    message = str(info.value)
    assert message.startswith("Diary refuses to start in production (DIARY_HTTPS=true): ")
    assert "\n" not in message
    return message


def test_a_complete_production_configuration_starts(make_app):
    app = make_app()
    assert app.config["HTTPS"] and app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL


def test_development_starts_with_nothing_set(make_app):
    # The quick start (make run): HTTPS off, SQLite, no Redis, generated secrets.
    app = make_app(HTTPS=False, DATABASE_URL=None, REDIS_URL=None, SECRET_KEY=None,
                   SECURITY_PASSWORD_SALT=None, SINGLE_PROCESS=None)
    assert app.config["SECRET_KEY"] and app.config["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.parametrize("name", instance_secrets.SECRET_NAMES)
def test_each_missing_secret_is_refused_and_none_is_generated(make_app, tmp_path, name):
    message = refusal(make_app, **{name: None})
    assert f"set DIARY_{name} in the environment" in message
    assert not (tmp_path / "instance" / instance_secrets.FILE_NAME).exists()


def test_secrets_from_the_environment_start_it(make_app):
    env = secrets_environment()
    app = make_app(env, **{name: None for name in instance_secrets.SECRET_NAMES})
    assert app.config["SECRET_KEY"] == env["DIARY_SECRET_KEY"]
    assert set(app.config["SECURITY_TOTP_SECRETS"]) == {"1"}
    Fernet(app.config["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"][0])


@pytest.mark.parametrize("how", [{"DIARY_DEBUG": "true"}, {"FLASK_DEBUG": "1"}])
def test_debug_is_refused(make_app, how):
    assert "debug is on" in refusal(make_app, how)


def test_debug_in_code_is_refused(make_app):
    assert "switch it off" in refusal(make_app, DEBUG=True)


def test_rate_limits_in_memory_are_refused_unless_one_process_serves(make_app):
    message = refusal(make_app, REDIS_URL=None)
    assert "rate limits would be kept in each process's memory" in message
    assert "set DIARY_REDIS_URL, or DIARY_SINGLE_PROCESS=true" in message
    assert "SQLite" not in message
    app = make_app(REDIS_URL=None, SINGLE_PROCESS=True)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_shared_rate_limit_storage_of_its_own_is_enough(make_app):
    app = make_app(REDIS_URL=None, RATELIMIT_STORAGE_URI=REDIS_URL)
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL


@pytest.mark.parametrize("database", [None, "sqlite:////srv/diary/diary.sqlite3"])
def test_sqlite_is_refused_unless_one_process_serves(make_app, tmp_path, database):
    if database:
        database = "sqlite:///" + str(tmp_path / "diary.sqlite3")
    message = refusal(make_app, DATABASE_URL=database)
    assert "SQLite serves one process on one machine" in message
    assert "set DIARY_DATABASE_URL to PostgreSQL, or DIARY_SINGLE_PROCESS=true" in message
    assert "rate limits" not in message
    make_app(DATABASE_URL=database, SINGLE_PROCESS=True)


def test_one_process_is_refused_when_the_server_runs_several(make_app):
    message = refusal(make_app, DATABASE_URL=None, REDIS_URL=None, SINGLE_PROCESS=True,
                      SERVER_PROCESSES=3)
    assert "DIARY_SINGLE_PROCESS=true, but the server runs 3 worker processes" in message
    make_app(DATABASE_URL=None, REDIS_URL=None, SINGLE_PROCESS=True, SERVER_PROCESSES=1)


def test_one_process_on_sqlite_without_redis_starts(make_app):
    app = make_app(DATABASE_URL=None, REDIS_URL=None, SINGLE_PROCESS=True)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_every_problem_is_named_at_once(make_app):
    with pytest.raises(StartRefused) as info:
        make_app(DATABASE_URL=None, REDIS_URL=None, DEBUG=True, SECRET_KEY=None)
    expected = ("DIARY_SECRET_KEY", "debug is on", "rate limits", "SQLite")
    assert len(info.value.reasons) == len(expected)
    for reason, text in zip(info.value.reasons, expected):
        assert text in reason and reason in str(info.value)


def test_the_refusal_is_a_click_error_and_a_runtime_error():
    # What makes flask and gunicorn (preload_app) print one line and exit 1.
    import click

    error = StartRefused(["a reason"])
    assert isinstance(error, click.ClickException) and isinstance(error, RuntimeError)
    assert error.exit_code == 1 and error.reasons == ["a reason"]


# --- As an operator sees it: one line, exit status 1 --------------------------


def run(command: list[str], env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    """Run ``command`` in the repository with only ``env`` as Diary's settings."""
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("DIARY_", "FLASK_"))}
    environment.update(DIARY_INSTANCE_PATH=str(tmp_path / "instance"), **env)
    return subprocess.run(command, env=environment, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def assert_one_line_refusal(done, *reasons: str) -> None:
    assert done.returncode == 1, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert lines[0].startswith("Error: Diary refuses to start in production (DIARY_HTTPS=true): ")
    for reason in reasons:
        assert reason in lines[0]


@pytest.mark.parametrize("command", [["db", "upgrade"], ["routes"], ["run", "--port", "9"]])
def test_flask_prints_one_line_and_exits_1(tmp_path, command):
    done = run([str(BIN / "flask"), "--app", "diary", *command], {"DIARY_HTTPS": "true"}, tmp_path)
    assert_one_line_refusal(done, "DIARY_SECRET_KEY", "DIARY_REDIS_URL", "SQLite")
    assert not (tmp_path / "instance" / instance_secrets.FILE_NAME).exists()


def test_flask_names_debug_when_asked_for_it(tmp_path):
    env = secrets_environment()
    env.update(DIARY_HTTPS="true", DIARY_SINGLE_PROCESS="true")
    done = run([str(BIN / "flask"), "--app", "diary", "--debug", "routes"], env, tmp_path)
    assert_one_line_refusal(done, "debug is on")
    assert "DIARY_SECRET_KEY" not in done.stderr and "SQLite" not in done.stderr
    # The same settings without --debug start: the routes are listed.
    done = run([str(BIN / "flask"), "--app", "diary", "routes"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "/readyz" in done.stdout


def test_gunicorn_with_preload_prints_one_line_and_exits_1(tmp_path):
    done = run([str(BIN / "gunicorn"), "--preload", "--bind", "127.0.0.1:0", "diary:create_app()"],
               {"DIARY_HTTPS": "true", "DIARY_SINGLE_PROCESS": "true"}, tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.strip()]
    assert line.startswith("Error: Diary refuses to start in production (DIARY_HTTPS=true): set ")
    assert "SQLite" not in line and "rate limits" not in line


def test_gunicorn_with_the_shipped_config_refuses_one_process_with_several_workers(tmp_path):
    env = secrets_environment()
    env.update(DIARY_HTTPS="true", DIARY_SINGLE_PROCESS="true", WEB_CONCURRENCY="2",
               GUNICORN_BIND="127.0.0.1:0")
    done = run([str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                "diary:create_app()"], env, tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.strip()]
    assert "the server runs 2 worker processes" in line


def test_the_secrets_command_prints_a_usable_environment(tmp_path):
    done = subprocess.run([sys.executable, "-m", "diary.instance_secrets"], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    lines = done.stdout.strip().splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        f"DIARY_{name}" for name in instance_secrets.SECRET_NAMES]
    values = dict(shlex.split(line)[0].split("=", 1) for line in lines)
    assert set(json.loads(values["DIARY_SECURITY_TOTP_SECRETS"])) == {"1"}
    Fernet(json.loads(values["DIARY_SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"])[0])
    # Fresh each time.
    again = subprocess.run([sys.executable, "-m", "diary.instance_secrets"], capture_output=True,
                           text=True, check=True, cwd=ROOT).stdout
    assert again != done.stdout


def test_is_sqlite():
    assert production.is_sqlite({})
    assert production.is_sqlite({"DATABASE_URL": "sqlite:////srv/diary.sqlite3"})
    assert not production.is_sqlite({"DATABASE_URL": POSTGRES_URL})
