"""The instance folder holds every diary (the SQLite file), the secrets and saved
mails: only the account Diary runs as may open it."""

from __future__ import annotations

import logging
import os
import shlex
import stat
import subprocess

import pytest

from diary import create_app, instance_folder
from tests.conftest import base_config


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def make_app(tmp_path, database_url):
    def _make(instance, **overrides):
        settings = base_config(database_url, str(instance))
        settings.update(overrides)
        return create_app(settings)

    return _make


def test_created_0700_at_start(make_app, tmp_path):
    instance = tmp_path / "new" / "instance"
    make_app(instance)
    assert mode(instance) == 0o700


def test_created_0700_even_under_a_permissive_umask(make_app, tmp_path):
    old = os.umask(0)
    try:
        make_app(tmp_path / "instance")
    finally:
        os.umask(old)
    assert mode(tmp_path / "instance") == 0o700


def test_a_looser_existing_folder_is_warned_about_once_with_the_fix(make_app, tmp_path, caplog):
    instance = tmp_path / "shared place"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)
    caplog.set_level(logging.WARNING)
    make_app(instance)
    make_app(instance)  # a second app in the same process: no second warning
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING and str(instance) in r.getMessage()]
    assert len(warnings) == 1
    (message,) = warnings
    assert "\n" not in message and "0755" in message
    assert f"chmod -R go= {shlex.quote(str(instance))}" in message
    assert mode(instance) == 0o755  # an operator's folder: told, not changed


def test_the_fix_the_warning_gives_works(make_app, tmp_path, caplog):
    instance = tmp_path / "loose"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)
    (instance / "diary.sqlite3").write_bytes(b"")
    os.chmod(instance / "diary.sqlite3", 0o644)
    caplog.set_level(logging.WARNING)
    make_app(instance)
    command = next(r.getMessage() for r in caplog.records
                   if str(instance) in r.getMessage()).split("run: ", 1)[1]
    subprocess.run(command, shell=True, check=True)
    assert mode(instance) == 0o700
    assert mode(instance / "diary.sqlite3") == 0o600


def test_a_private_existing_folder_is_not_warned_about(make_app, tmp_path, caplog):
    instance = tmp_path / "private"
    instance.mkdir(mode=0o700)
    caplog.set_level(logging.WARNING)
    make_app(instance)
    assert not [r for r in caplog.records if str(instance) in r.getMessage()]


def test_looser_means_any_access_for_group_or_others(tmp_path):
    for loose in (0o750, 0o701, 0o710, 0o705, 0o770):
        assert instance_folder.too_open(loose)
    for private in (0o700, 0o500):
        assert not instance_folder.too_open(private)
