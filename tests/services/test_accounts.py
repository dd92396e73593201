"""Roles, the default role of new accounts, and the demo accounts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_security import verify_password

from diary import permissions
from diary.extensions import db
from diary.security.core import security
from diary.models import Role, User
from diary.services import accounts


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
