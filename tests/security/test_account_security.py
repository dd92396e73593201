"""Everything of issue 3 is switched on by ``create_app``."""

from __future__ import annotations

from diary.security import headers
from diary.services import ratelimits


def test_create_app_binds_lockout_limits_headers_and_the_unlock_command(app):
    assert ratelimits.EXTENSION_KEY in app.extensions
    assert headers.EXTENSION_KEY in app.extensions
    users = app.cli.get_command(None, "users")
    assert "unlock" in users.commands
