"""README.md stays true: its configuration table, demo accounts, permission table
and quick-start commands are checked against the code."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from diary import config, permissions
from diary.services import accounts

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text()


def load_generator():
    spec = importlib.util.spec_from_file_location("config_table", ROOT / "docs" / "config_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_table_is_up_to_date(readme):
    generator = load_generator()
    assert generator.readme_table(readme) == generator.table(), (
        "README's configuration table differs from src/diary/config.py: "
        "run .venv/bin/python docs/config_table.py --write")


def test_every_setting_has_a_row_with_its_variable(readme):
    for name in (n for n in vars(config.Defaults) if n.isupper()):
        assert re.search(rf"^\| `{name}` \| `DIARY_{name}` \|", readme, re.MULTILINE), name


def test_demo_accounts_and_their_warning(readme):
    for account in accounts.DEMO_ACCOUNTS:
        assert f"| `{account.email}` | `{account.password}` | {account.role}" in readme
    assert "these are demo credentials" in readme


def test_permission_table_matches_the_roles(readme):
    rows = re.findall(r"^\| `([a-z]+:[a-z-]+)` \| [^|]+ \|\s*(✓?)\s*\|\s*(✓?)\s*\|$", readme,
                      re.MULTILINE)
    table = {name: (writer == "✓", admin == "✓") for name, writer, admin in rows}
    expected = {
        name: (name in permissions.ROLE_PERMISSIONS[permissions.WRITER],
               name in permissions.ROLE_PERMISSIONS[permissions.ADMIN])
        for name in set().union(*permissions.ROLE_PERMISSIONS.values())
    }
    assert table == expected


def test_quick_start_commands_exist(readme):
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "bench"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target
    assert "http://localhost:5000" in readme and "PORT ?= 5000" in makefile


def test_screenshot_exists_and_is_small(readme):
    assert "](docs/screenshot.png)" in readme
    assert (ROOT / "docs" / "screenshot.png").stat().st_size < 200_000
