"""Accounts on Flask-Security's fsqla_v4 models."""

from __future__ import annotations

from diary.extensions import db
from diary.models import User


def test_display_name_prefers_the_name_then_the_username(app, make_user):
    uid = make_user("alice@example.com")
    with app.app_context():
        user = db.session.get(User, uid)
        assert user.display_name == "alice@example.com"
        user.username = "Alice"
        assert user.display_name == "Alice"
        user.name = "Alice Liddell"  # the display name set on /account comes first
        assert user.display_name == "Alice Liddell"


def test_tables_have_the_names_flask_security_expects():
    from diary.models import FsRefreshTracker, Role, WebAuthn

    assert (User.__tablename__, Role.__tablename__, WebAuthn.__tablename__,
            FsRefreshTracker.__tablename__) == ("user", "role", "webauthn", "fs_refresh")


def test_a_user_has_permissions_through_roles(app, make_user, mfa_policy_off):
    uid = make_user("root@example.com", role="Admin")
    with app.app_context():
        user = db.session.get(User, uid)
        assert user.has_role("Admin")
        assert user.has_permission("entry:delete-any")
        assert not user.has_permission("entry:made-up")
