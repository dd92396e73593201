"""Accounts and roles: the built-in roles, the default role of new accounts and the
demo accounts."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_security import hash_password
from flask_security.utils import naive_utcnow

from diary import permissions
from diary.extensions import datastore as user_datastore
from diary.extensions import db
from diary.models import Role, User


@dataclass(frozen=True)
class DemoAccount:
    """One of the tutorial's demo accounts."""

    email: str
    password: str
    role: str
    username: str | None = None


# The tutorial's accounts. They exist only where an operator runs
# ``flask --app diary demo-data``; nothing else ever creates accounts.
DEMO_ACCOUNTS = (
    DemoAccount("test@me.com", "password", permissions.WRITER, "Test User"),
    DemoAccount("admin@example.com", "adminpass", permissions.ADMIN),
    DemoAccount("writer@example.com", "writerpass", permissions.WRITER),
)


def ensure_roles() -> list[Role]:
    """Create any built-in role that is missing, with its default permissions, and
    return the roles. Existing roles are left as the operator set them."""
    datastore = user_datastore()
    roles = []
    for name, perms in permissions.ROLE_PERMISSIONS.items():
        role = datastore.find_role(name)
        if role is None:
            role = datastore.create_role(
                name=name,
                description=permissions.ROLE_DESCRIPTIONS[name],
                permissions=list(perms),
            )
        roles.append(role)
    db.session.commit()
    return roles


def assign_default_role(user: User) -> None:
    """Give a newly registered ``user`` the default role (setting ``DEFAULT_ROLE``).

    Called inside the registration request; the library commits afterwards.

    :raises LookupError: if the role does not exist (migrations not applied).
    """
    name = current_app.config["DEFAULT_ROLE"]
    role = user_datastore().find_role(name)
    if role is None:
        raise LookupError(f"role {name!r} is missing: run 'flask --app diary db upgrade'")
    user_datastore().add_role_to_user(user, role)


def seed_demo_accounts() -> list[tuple[DemoAccount, bool]]:
    """Create the roles and the demo accounts, confirmed, where missing.

    Idempotent: an existing account is left alone (its password is not reset).

    :return: each demo account with True where it was created now.
    """
    ensure_roles()
    datastore = user_datastore()
    result = []
    for account in DEMO_ACCOUNTS:
        created = datastore.find_user(email=account.email) is None
        if created:
            datastore.create_user(
                email=account.email,
                username=account.username,
                password=hash_password(account.password),
                roles=[account.role],
                confirmed_at=naive_utcnow(),  # the library's columns are naive UTC
            )
        result.append((account, created))
    db.session.commit()
    return result

