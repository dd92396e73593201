"""Roles, the default role of new accounts, and the demo accounts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_security import verify_password

from diary import permissions
from diary.extensions import db
from diary.security.core import security
from diary.models import Role, User
from diary.services import accounts, lockout


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def role_permissions() -> dict[str, set[str]]:
    return {r.name: set(r.get_permissions()) for r in db.session.scalars(sa.select(Role))}


def test_ensure_roles_creates_the_built_in_roles(ctx):
    db.session.execute(sa.delete(Role))
    db.session.commit()
    roles = accounts.ensure_roles()
    assert sorted(r.name for r in roles) == ["Admin", "Writer"]
    assert role_permissions() == {
        name: set(perms) for name, perms in permissions.ROLE_PERMISSIONS.items()
    }


def test_ensure_roles_is_idempotent_and_keeps_operator_changes(ctx):
    writer = security.datastore.find_role("Writer")
    security.datastore.add_permissions_to_role(writer, ["entry:read-any"])
    db.session.commit()
    accounts.ensure_roles()
    accounts.ensure_roles()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Role)) == 2
    assert "entry:read-any" in role_permissions()["Writer"]


def test_migration_roles_match_the_permission_table(ctx):
    # The conftest restores roles with ensure_roles(); the migration seeds them too.
    # Both must agree with diary.permissions.
    from importlib import import_module

    initial = import_module("diary.migrations.versions.0001_initial_schema")
    own_entries = import_module("diary.migrations.versions.0007_own_entry_permissions")
    seeded = {r["name"]: set(r["permissions"].split(",")) for r in initial.ROLES}
    seeded[own_entries.ADMIN] |= set(own_entries.NEW)  # what 0007 does to the roles
    assert seeded == {name: set(p) for name, p in permissions.ROLE_PERMISSIONS.items()}


def test_assign_default_role(ctx):
    user = security.datastore.create_user(email="new@example.com", password="x")
    accounts.assign_default_role(user)
    db.session.commit()
    assert [r.name for r in user.roles] == ["Writer"]


def test_default_role_is_a_setting(ctx):
    ctx.config["DEFAULT_ROLE"] = "Admin"
    user = security.datastore.create_user(email="new@example.com", password="x")
    accounts.assign_default_role(user)
    assert [r.name for r in user.roles] == ["Admin"]


def test_assign_default_role_without_the_role_says_what_to_do(ctx):
    ctx.config["DEFAULT_ROLE"] = "Nobody"
    user = security.datastore.create_user(email="new@example.com", password="x")
    with pytest.raises(LookupError, match="db upgrade"):
        accounts.assign_default_role(user)


def test_seed_demo_accounts(ctx):
    result = accounts.seed_demo_accounts()
    assert [(a.email, created) for a, created in result] == [
        ("test@me.com", True), ("admin@example.com", True), ("writer@example.com", True)]
    for account in accounts.DEMO_ACCOUNTS:
        user = security.datastore.find_user(email=account.email)
        assert verify_password(account.password, user.password)
        assert user.confirmed_at is not None
        assert [r.name for r in user.roles] == [account.role]
        assert user.username == account.username


def test_seed_demo_accounts_leaves_existing_accounts_alone(ctx):
    accounts.seed_demo_accounts()
    user = security.datastore.find_user(email="test@me.com")
    from flask_security import hash_password

    user.password = hash_password("changed by its owner")
    db.session.commit()
    result = accounts.seed_demo_accounts()
    assert not any(created for _, created in result)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3
    assert verify_password("changed by its owner",
                           security.datastore.find_user(email="test@me.com").password)


# --- Deleting an account -----------------------------------------------------------

SECRET_CONTENT = "my secret diary line"


def _seed(app, email: str) -> int:
    from flask_security.utils import naive_utcnow

    from diary.models import FsRefreshTracker, WebAuthn

    """Give ``email``'s account two entries, a token, an audit trail and a lockout
    row; return its id."""
    from datetime import timedelta

    from diary.models import Entry
    from diary.models.types import Strength
    from diary.services import audit, lockout, tokens

    user = db.session.scalar(sa.select(User).where(User.email == email))
    db.session.add_all([Entry(user_id=user.id, content=SECRET_CONTENT),
                        Entry(user_id=user.id, content="another")])
    now = naive_utcnow()
    db.session.add(WebAuthn(
        user_id=user.id, credential_id=f"cred-{email}".encode(), public_key=b"key",
        sign_count=0, backup_state=False, device_type="single_device",
        create_datetime=now, lastuse_datetime=now, name="laptop key", usage="secondary"))
    db.session.add(FsRefreshTracker(
        user_id=user.id, refresh_family=f"family-{email}", expires_at=now,
        last_used_at=now, name="app"))
    db.session.commit()
    tokens.create_token(user, "phone", ["entries:read"], timedelta(days=7),
                        strength=Strength.PASSWORD)
    audit.record_event(audit.AuditTag.LOGIN_SUCCESS, user=user, ip="192.0.2.7")
    lockout.record_failure(user, method="password")
    return user.id


def _count(model, **where) -> int:
    query = sa.select(sa.func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return db.session.scalar(query)


def test_delete_account_deletes_everything_of_the_user_but_the_audit_rows(app, demo_users, outbox):
    from diary.models import (AccountLockout, ApiToken, AuditEvent, Entry, FsRefreshTracker,
                              UserSession, WebAuthn)

    with app.test_request_context():
        uid = _seed(app, "writer@example.com")
        other = _seed(app, "test@me.com")
        audit_before = _count(AuditEvent, user_id=uid)
        assert audit_before >= 3
        user = db.session.get(User, uid)
        deleted = accounts.delete_account(user, ip="192.0.2.9", user_agent="ua")
        assert (deleted.email, deleted.entries) == ("writer@example.com", 2)
        assert deleted.ended.tokens == ["phone"]

        db.session.expire_all()
        assert db.session.get(User, uid) is None
        for model in (Entry, ApiToken, AccountLockout, UserSession, WebAuthn, FsRefreshTracker):
            assert _count(model, user_id=uid) == 0, model
        # The other user keeps everything.
        for model in (Entry, ApiToken, AccountLockout, WebAuthn, FsRefreshTracker):
            assert _count(model, user_id=other) == (2 if model is Entry else 1), model
        # No role membership of the deleted account is left behind.
        from diary.models.users import fsqla  # noqa: F401  (roles_users lives in the metadata)

        roles_users = db.metadata.tables["roles_users"]
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(roles_users).where(roles_users.c.user_id == uid)
        ) == 0

        # The audit rows stay, no longer tied to the account, without entry content.
        orphans = list(db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.user_id.is_(None)).order_by(AuditEvent.id)))
        assert len(orphans) >= audit_before + 2  # + what the deletion ended, + the deletion
        assert _count(AuditEvent, user_id=uid) == 0
        [event] = [e for e in orphans if e.tag == "account:deleted"]
        assert event.ip == "192.0.2.9"
        assert event.details["entries"] == 2 and event.details["tokens"] == 1
        assert all(SECRET_CONTENT not in str(e.details) for e in orphans)

    [mail] = outbox
    assert mail.to == ["writer@example.com"]
    assert mail.subject == "Your Diary account was deleted"
    assert "2 entries" in mail.body and SECRET_CONTENT not in mail.body
    assert "phone" in mail.body  # the token that was ended


def test_the_last_active_admin_cannot_delete_their_account(app, demo_users, outbox):
    with app.test_request_context():
        admin = db.session.get(User, demo_users["admin@example.com"])
        writer = db.session.get(User, demo_users["writer@example.com"])
        assert accounts.is_last_active_admin(admin)
        assert not accounts.is_last_active_admin(writer)
        with pytest.raises(accounts.LastAdmin):
            accounts.delete_account(admin)
        db.session.expire_all()
        assert db.session.get(User, demo_users["admin@example.com"]) is not None
        assert outbox == []

        # A deactivated Admin does not count; an active one does.
        second = security.datastore.create_user(
            email="second@example.com", password=None, roles=[permissions.ADMIN], active=False)
        db.session.commit()
        assert accounts.is_last_active_admin(admin)
        second.active = True
        db.session.commit()
        assert not accounts.is_last_active_admin(admin)
        # A locked Admin does not count either: they cannot sign in to manage.
        lockout.lock_by_admin(second, reason="test", actor=None)
        db.session.commit()
        assert accounts.is_last_active_admin(admin)
        lockout.unlock(second, reason="test")
        db.session.commit()
        assert not accounts.is_last_active_admin(admin)
        accounts.delete_account(admin)
        assert db.session.get(User, demo_users["admin@example.com"]) is None
        assert accounts.is_last_active_admin(db.session.get(User, second.id))
