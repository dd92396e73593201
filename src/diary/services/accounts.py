"""Accounts and roles: the built-in roles, the default role of new accounts, the
demo accounts, and deleting an account (its owner's "delete my account")."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_security import hash_password
from flask_security.utils import naive_utcnow, send_mail
from sqlalchemy import delete, func, not_, select

from diary import permissions
from diary.extensions import datastore as user_datastore
from diary.extensions import db
from diary.models import AccountLockout, ApiToken, Entry, Role, User
from diary.services import lockout, revocation
from diary.services.audit import AuditTag, record_event
from diary.services.sessions import Ended


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



# --- Deleting an account ---------------------------------------------------------


class LastAdmin(Exception):
    """The account is the last active Admin: without it nobody could manage the
    others (roles, unlocking, deactivation), so it may not go."""


def is_last_active_admin(user: User, *, lock: bool = False) -> bool:
    """Return whether ``user`` is an active Admin and no other active, unlocked
    account has the Admin role: the one rule behind "the last active Admin cannot
    delete their account, deactivate or lock themselves, or give up the role".

    A locked Admin does not count: they cannot sign in to manage anybody.

    :param lock: lock the other Admins' rows until the transaction ends
        (PostgreSQL; SQLite has one writer anyway), so that two Admins deleting
        their accounts at once cannot both see the other one still there.
    """
    if not (user.active and user.has_role(permissions.ADMIN)):
        return False
    query = select(User.id).where(
        User.active.is_(True),
        User.roles.any(Role.name == permissions.ADMIN),
        User.id != user.id,
        not_(lockout.locked_now()),
    )
    if lock:
        query = query.with_for_update()
    return db.session.scalars(query).first() is None


@dataclass(frozen=True)
class Deleted:
    """What deleting an account removed (counts only: never entry content)."""

    email: str
    entries: int
    ended: Ended


def delete_account(
    user: User, *, ip: str | None = None, user_agent: str | None = None
) -> Deleted:
    """Delete ``user``'s account at its owner's request, with everything that is
    theirs; mail them once it is done; return what went.

    In one transaction: every session, remembered device and token is ended (as
    "sign out everywhere" does, :mod:`diary.services.revocation`) and an
    ``account:deleted`` event is recorded; then the entries, personal access
    tokens, lockout record and the user row go, and with the row its roles,
    passkeys and refresh tokens. The audit log keeps its rows: the database sets
    their ``user_id`` to NULL (``ON DELETE SET NULL``), and no event holds entry
    content. The confirmation mail goes out only after the commit.

    :raises LastAdmin: ``user`` is the last active Admin; nothing is changed.
    """
    if is_last_active_admin(user, lock=True):
        db.session.rollback()  # release the row locks
        raise LastAdmin(user.email)
    email = user.email
    entries = db.session.scalar(select(func.count(Entry.id)).where(Entry.user_id == user.id))
    ended = revocation.end_credentials(
        user,
        revocation.Trigger.ACCOUNT_DELETED,
        ip=ip,
        user_agent=user_agent,
        commit=False,
    )
    record_event(
        AuditTag.ACCOUNT_DELETED,
        user=user,
        ip=ip,
        user_agent=user_agent,
        details={"entries": entries, **ended.details()},
        commit=False,
    )
    # The events are written while the user row is still there; deleting the row
    # then turns their user_id into NULL.
    db.session.flush()
    for model in (Entry, ApiToken, AccountLockout):
        db.session.execute(
            delete(model)
            .where(model.user_id == user.id)
            .execution_options(synchronize_session="fetch")
        )
    user_datastore().delete_user(user)
    db.session.commit()
    _notify_deleted(email, entries, ended)
    return Deleted(email, entries, ended)


def _notify_deleted(email: str, entries: int, ended: Ended) -> None:
    """Mail ``email`` that its Diary account and entries are gone."""
    send_mail(
        "Your Diary account was deleted",
        email,
        "security/email/account_deleted",
        email=email,
        entries=entries,
        ended=ended,
    )
