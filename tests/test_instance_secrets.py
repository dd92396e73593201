"""SECRET_KEY, SECURITY_PASSWORD_SALT and the multi-factor keys: from the
environment, else generated once and kept in the instance folder."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import stat
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from diary import create_app, instance_secrets
from diary.services import accounts
from tests.conftest import AuthActions, base_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_secrets_in_environment(monkeypatch):
    for name in instance_secrets.SECRET_NAMES:
        monkeypatch.delenv("DIARY_" + name, raising=False)


def config_without_secrets(database_url: str, instance: Path) -> dict:
    settings = base_config(database_url, str(instance))
    for name in instance_secrets.SECRET_NAMES:
        settings.pop(name, None)
    return settings


def test_generated_once_with_mode_0600_and_reused(tmp_path):
    first = instance_secrets.load_or_create(str(tmp_path))
    path = tmp_path / instance_secrets.FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(first) == set(instance_secrets.SECRET_NAMES)
    assert all(len(first[name]) >= 48 for name in ("SECRET_KEY", "SECURITY_PASSWORD_SALT"))
    assert first["SECRET_KEY"] != first["SECURITY_PASSWORD_SALT"]
    assert instance_secrets.load_or_create(str(tmp_path)) == first
    assert json.loads(path.read_text()) == first
    # No temporary files left behind.
    assert [p.name for p in tmp_path.iterdir()] == [instance_secrets.FILE_NAME]


def test_creates_the_instance_folder(tmp_path):
    folder = tmp_path / "not" / "yet"
    instance_secrets.load_or_create(str(folder))
    assert (folder / instance_secrets.FILE_NAME).exists()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_incomplete_file_is_completed_keeping_what_it_had(tmp_path):
    path = tmp_path / instance_secrets.FILE_NAME
    path.write_text(json.dumps({"SECRET_KEY": "kept"}))
    stored = instance_secrets.load_or_create(str(tmp_path))
    assert stored["SECRET_KEY"] == "kept"
    assert stored["SECURITY_PASSWORD_SALT"]
    assert json.loads(path.read_text()) == stored


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    # "spawn": fresh interpreters, safe beside the threads other tests leave running.
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(instance_secrets.load_or_create, [str(tmp_path)] * 8))
    assert all(result == results[0] for result in results)


def test_two_apps_on_one_instance_folder_share_sessions(app, database_url, tmp_path):
    instance = tmp_path / "shared-instance"
    settings = config_without_secrets(database_url, instance)
    # Two processes of one deployment: one instance folder, one session store.
    first = create_app(dict(settings))
    second = create_app(dict(settings))
    with first.app_context():  # passwords are hashed with the instance's salt
        accounts.seed_demo_accounts()
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SECURITY_PASSWORD_SALT"] == second.config["SECURITY_PASSWORD_SALT"]

    client = first.test_client()
    AuthActions(client).login()
    session = client.get_cookie("session")
    assert session is not None

    restarted = second.test_client()
    assert restarted.get("/").status_code == 302  # no cookie: asked to log in
    restarted.set_cookie("session", session.value)
    response = restarted.get("/")
    assert response.status_code == 200
    assert "Hello, writer@example.com" in response.get_data(as_text=True)


def test_a_fresh_instance_folder_means_a_different_key(tmp_path):
    a = create_app(config_without_secrets("sqlite://", tmp_path / "a"))
    b = create_app(config_without_secrets("sqlite://", tmp_path / "b"))
    assert a.config["SECRET_KEY"] != b.config["SECRET_KEY"]


def test_the_environment_wins_over_the_instance_file(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    stored = instance_secrets.load_or_create(str(instance))
    monkeypatch.setenv("DIARY_SECRET_KEY", "key-from-the-environment")
    app = create_app(config_without_secrets("sqlite://", instance))
    assert app.config["SECRET_KEY"] == "key-from-the-environment"
    assert app.config["SECURITY_PASSWORD_SALT"] == stored["SECURITY_PASSWORD_SALT"]


def test_all_from_the_environment_touch_no_file(tmp_path, monkeypatch):
    from cryptography.fernet import Fernet

    monkeypatch.setenv("DIARY_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DIARY_SECURITY_PASSWORD_SALT", "s" * 40)
    monkeypatch.setenv("DIARY_SECURITY_TOTP_SECRETS", json.dumps({"1": "t" * 40}))
    monkeypatch.setenv(
        "DIARY_SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS",
        json.dumps([Fernet.generate_key().decode()]),
    )
    app = create_app(config_without_secrets("sqlite://", tmp_path / "instance"))
    assert app.config["SECRET_KEY"] == "k" * 40
    assert not (tmp_path / "instance" / instance_secrets.FILE_NAME).exists()


def tracked_files() -> list[Path]:
    """Return the files git tracks in this checkout (all files if git is missing)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts]
    return [ROOT / name for name in out.decode().split("\0") if name]


def test_nothing_secret_in_the_source_tree():
    files = tracked_files()
    assert files
    assert not [f for f in files if f.name == instance_secrets.FILE_NAME or "instance" in f.parts]
    # No hard-coded key anywhere in the package: SECRET_KEY = "…" or a salt literal.
    assignment = re.compile(r"""(SECRET_KEY|PASSWORD_SALT)["']?\s*[:=]\s*["'][^"']+["']""")
    offenders = [
        str(f.relative_to(ROOT))
        for f in files
        if f.suffix in {".py", ".cfg", ".toml", ".ini", ".env", ".json", ".yml", ".yaml"}
        and "tests" not in f.relative_to(ROOT).parts
        and f.exists()
        and assignment.search(f.read_text(errors="replace"))
    ]
    assert offenders == []


def test_gitignore_keeps_the_instance_folder_out():
    assert "instance/" in (ROOT / ".gitignore").read_text().split()


def test_mfa_secrets_are_generated_once(tmp_path):
    first = instance_secrets.load_or_create(str(tmp_path))
    assert set(first["SECURITY_TOTP_SECRETS"]) == {"1"}
    Fernet(first["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"][0])  # a valid key
    assert instance_secrets.load_or_create(str(tmp_path)) == first


def test_older_secrets_file_gains_the_new_secrets(tmp_path):
    (tmp_path / "secrets.json").write_text('{"SECRET_KEY": "k", "SECURITY_PASSWORD_SALT": "s"}')
    stored = instance_secrets.load_or_create(str(tmp_path))
    assert stored["SECRET_KEY"] == "k" and stored["SECURITY_TOTP_SECRETS"]


def test_configured_secrets_are_kept(tmp_path):
    config = {
        "SECRET_KEY": "k",
        "SECURITY_PASSWORD_SALT": "s",
        "SECURITY_TOTP_SECRETS": {"2": "from-env"},
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS": [Fernet.generate_key().decode()],
    }
    before = dict(config)
    instance_secrets.apply(config, str(tmp_path))
    assert config == before
    assert not (tmp_path / "secrets.json").exists()
