"""The Makefile's quick start: ``make run`` serves where it says, and the address
it prints is the one mailed links and passkeys use (BASE_URL follows HOST and PORT
unless DIARY_BASE_URL is set). Read with ``make -n``, which runs nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str, **env: str) -> list[str]:
    """Return the last two commands ``make run`` would run: the banner and the server."""
    # Without the variables of a calling make (the suite runs under `make test`):
    # with them, this make says "Entering/Leaving directory" around its commands.
    ignored = ("DIARY_BASE_URL", "HOST", "PORT", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    environment = {k: v for k, v in os.environ.items() if k not in ignored}
    environment.update(env)
    out = subprocess.run(["make", "--no-print-directory", "-n", "run", *args], cwd=ROOT, env=environment,
                         capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-2:]


def test_the_default_is_localhost_5000():
    banner, server = dry_run()
    assert banner == 'echo " * Diary: open http://localhost:5000"'
    assert server.startswith("DIARY_BASE_URL='http://localhost:5000' ")
    assert server.endswith("flask --app diary run --host localhost --port 5000")


def test_another_port_moves_the_base_url_and_the_banner_with_it():
    banner, server = dry_run("PORT=5088")
    assert banner == 'echo " * Diary: open http://localhost:5088"'
    assert server.startswith("DIARY_BASE_URL='http://localhost:5088' ")
    assert server.endswith("--port 5088")


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_a_loopback_or_all_addresses_host_is_opened_as_localhost(host):
    # Passkeys need a host name: 127.0.0.1 is not a valid relying-party ID.
    banner, server = dry_run(f"HOST={host}", "PORT=5088")
    assert banner == 'echo " * Diary: open http://localhost:5088"'
    assert server.startswith("DIARY_BASE_URL='http://localhost:5088' ")
    assert f"--host {host} " in server


def test_a_named_host_is_the_base_url():
    _banner, server = dry_run("HOST=diary.lan", "PORT=8000")
    assert server.startswith("DIARY_BASE_URL='http://diary.lan:8000' ")


def test_diary_base_url_from_the_environment_wins():
    banner, server = dry_run("PORT=5088", DIARY_BASE_URL="https://diary.example.org")
    assert banner == 'echo " * Diary: open https://diary.example.org"'
    assert server.startswith("DIARY_BASE_URL='https://diary.example.org' ")
    assert server.endswith("--port 5088")
