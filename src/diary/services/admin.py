"""The admin console's rules: finding users, what an administrator may do to an
account, and changes to roles and their permissions.

Every action takes the acting administrator (``actor``) and the one-line
``reason`` they gave, records an audit event with both, and mails the user it
concerns. The views of :mod:`diary.admin` only parse the form and call one
function here; who may call them at all (``user:manage``, with the two-factor
rule of :func:`diary.services.credentials.effective_permissions`) is decided by
the views' permission checks.

The last-Admin guard: no action may leave Diary without an active, unlocked
member of the Admin role, so the last one can neither lock nor deactivate
themselves nor give up the role (nor take ``user:manage`` from it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_security.recoverable import send_reset_password_instructions
from flask_security.utils import send_mail
from sqlalchemy import and_, exists, func, not_, or_, select

from diary import permissions
from diary.extensions import datastore, db
from diary.models import AuditEvent, Entry, Role, User, WebAuthn
from diary.services import accounts, lockout, mfa, revocation
from diary.services.audit import AuditTag, record_event
from diary.services.revocation import Trigger

# Users listed on one page of the console.
USERS_PER_PAGE = 25
# Audit events shown on a user's page.
USER_EVENTS = 20
# The longest reason accepted (one line).
REASON_MAX_LENGTH = 200
ROLE_NAME_MAX_LENGTH = 80


class AdminError(Exception):
    """An action that was refused; the message says why, for the page."""


class UserNotFound(AdminError):
    """No such user."""


class RoleNotFound(AdminError):
    """No such role."""


class LastAdmin(AdminError):
    """The action would leave no active Admin."""


class Unchanged(AdminError):
    """The account or role is already as the action would make it."""


class Invalid(AdminError):
    """A value the action cannot take (an empty reason, an unknown permission …)."""


class NotPossible(AdminError):
    """The action cannot be done to this account as things are (a reset link for a
    deactivated account, or with recovery switched off)."""


# --- Finding users -----------------------------------------------------------------


class Filter(enum.StrEnum):
    """The filters of the user list."""

    LOCKED = "locked"
    DEACTIVATED = "deactivated"
    UNCONFIRMED = "unconfirmed"
    WITHOUT_TWO_FACTOR = "without-two-factor"


FILTER_LABELS = {
    Filter.LOCKED: "Locked",
    Filter.DEACTIVATED: "Deactivated",
    Filter.UNCONFIRMED: "Unconfirmed",
    Filter.WITHOUT_TWO_FACTOR: "Without two-factor",
}


@dataclass(frozen=True)
class UserQuery:
    """What the user list is asked for."""

    text: str = ""
    role: str | None = None
    filters: frozenset[Filter] = frozenset()
    page: int = 1


@dataclass(frozen=True)
class UserRow:
    """One user in the list."""

    user: User
    locked: bool
    has_second_factor: bool


@dataclass(frozen=True)
class UserPage:
    """One page of the user list."""

    rows: list[UserRow]
    page: int
    pages: int
    total: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def matching(text: str):
    """Return the condition of users whose email or name contains ``text`` (any
    case). The one place that says which columns a search looks at."""
    pattern = _like(text.strip())
    return or_(
        func.lower(User.email).like(pattern, escape="\\"),
        func.lower(User.username).like(pattern, escape="\\"),
        func.lower(User.name).like(pattern, escape="\\"),
    )


def _with_second_factor():
    """Users a password sign-in asks for a second factor (as
    :func:`diary.services.mfa.has_second_factor` decides, in SQL)."""
    return or_(
        and_(User.tf_primary_method.is_not(None), User.tf_totp_secret.is_not(None)),
        exists().where(WebAuthn.user_id == User.id, WebAuthn.usage == "secondary"),
    )


def search_users(query: UserQuery) -> UserPage:
    """Return one page of the users matching ``query``, by email.

    :raises Invalid: an unknown role.
    """
    conditions = []
    if query.text.strip():
        conditions.append(matching(query.text))
    if query.role:
        if datastore().find_role(query.role) is None:
            raise Invalid(f"There is no role “{query.role}”.")
        conditions.append(User.roles.any(Role.name == query.role))
    if Filter.LOCKED in query.filters:
        conditions.append(lockout.locked_now())
    if Filter.DEACTIVATED in query.filters:
        conditions.append(User.active.is_(False))
    if Filter.UNCONFIRMED in query.filters:
        conditions.append(User.confirmed_at.is_(None))
    if Filter.WITHOUT_TWO_FACTOR in query.filters:
        conditions.append(not_(_with_second_factor()))
    where = and_(True, *conditions)
    total = db.session.scalar(select(func.count(User.id)).where(where)) or 0
    pages = max(1, -(-total // USERS_PER_PAGE))
    page = min(max(query.page, 1), pages)
    users = db.session.scalars(
        select(User)
        .where(where)
        .order_by(User.email)
        .limit(USERS_PER_PAGE)
        .offset((page - 1) * USERS_PER_PAGE)
    ).unique()
    rows = [
        UserRow(user, lockout.is_locked(user), mfa.has_second_factor(user)) for user in users
    ]
    return UserPage(rows=rows, page=page, pages=pages, total=total)


# --- One user ------------------------------------------------------------------


@dataclass(frozen=True)
class UserOverview:
    """Everything the console shows about one user (never a secret)."""

    user: User
    roles: list[str]
    locked_until: datetime | None
    locked_by_admin: bool
    factors: list[str]
    passkeys: list[str]
    recovery_codes_left: int
    last_sign_in_at: datetime | None
    last_sign_in_ip: str | None
    entry_count: int
    events: list[AuditEvent] = field(default_factory=list)


def get_user(user_id: int) -> User:
    """Return the user ``user_id``.

    :raises UserNotFound: no such user.
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise UserNotFound("There is no such user.")
    return user


def user_overview(user_id: int) -> UserOverview:
    """Return what the console shows about user ``user_id``.

    The last sign-in comes from the audit log (every sign-in, remember-me
    included, is recorded there with its IP address), so Flask-Security's
    trackable columns are not needed.

    :raises UserNotFound: no such user.
    """
    user = get_user(user_id)
    overview = mfa.factor_overview(user)
    factors = [overview.method_name] if overview.method_name else []
    if any(p.usage == "secondary" for p in overview.passkeys):
        factors.append(mfa.METHOD_NAMES["webauthn"])
    last = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.user_id == user.id, AuditEvent.tag == str(AuditTag.LOGIN_SUCCESS))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).first()
    events = db.session.scalars(
        select(AuditEvent)
        .where(or_(AuditEvent.user_id == user.id, AuditEvent.actor_id == user.id))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(USER_EVENTS)
    )
    until = lockout.locked_until(user)
    return UserOverview(
        user=user,
        roles=sorted(role.name for role in user.roles),
        locked_until=until,
        locked_by_admin=until is not None and until >= lockout.ADMIN_LOCK_UNTIL,
        factors=factors,
        passkeys=[f"{p.name} ({'sign-in' if p.usage == 'first' else 'second factor'})"
                  for p in overview.passkeys],
        recovery_codes_left=overview.recovery_codes_left,
        last_sign_in_at=last.created_at if last else None,
        last_sign_in_ip=last.ip if last else None,
        entry_count=db.session.scalar(
            select(func.count(Entry.id)).where(Entry.user_id == user.id)
        ) or 0,
        events=list(events),
    )


# --- Actions on a user ---------------------------------------------------------------


class Action(enum.StrEnum):
    """What an administrator can do to an account (the URL names them)."""

    LOCK = "lock"
    UNLOCK = "unlock"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    ADD_ROLE = "add-role"
    REMOVE_ROLE = "remove-role"
    RESET_PASSWORD = "reset-password"
    RESET_TWO_FACTOR = "reset-two-factor"
    SIGN_OUT = "sign-out"


@dataclass(frozen=True)
class Who:
    """The administrator acting, and from where (for the audit log)."""

    actor: User
    ip: str | None = None
    user_agent: str | None = None

    def record(
        self, tag: AuditTag, user: User | None, reason: str, *, commit: bool = False, **details
    ) -> None:
        """Record ``tag`` about ``user`` (None for a role change) as done by this
        administrator for ``reason``, with ``details``; commit only if asked."""
        record_event(
            tag,
            user=user,
            actor=self.actor,
            ip=self.ip,
            user_agent=self.user_agent,
            details={"reason": reason, **details},
            commit=commit,
        )


def check_reason(reason: str | None) -> str:
    """Return ``reason`` stripped.

    :raises Invalid: empty, several lines, or too long.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Give a reason: it is kept in the audit log and sent to the user.")
    if "\n" in reason or "\r" in reason:
        raise Invalid("The reason must be one line.")
    if len(reason) > REASON_MAX_LENGTH:
        raise Invalid(f"The reason must be at most {REASON_MAX_LENGTH} characters.")
    return reason


def perform(
    action: Action, user_id: int, who: Who, reason: str, role: str | None = None
) -> str:
    """Do ``action`` to user ``user_id`` for ``who`` with ``reason``; return what
    was done, in a sentence for the page.

    :raises UserNotFound, RoleNotFound, LastAdmin, Unchanged, NotPossible, Invalid:
        nothing was changed.
    """
    reason = check_reason(reason)
    user = get_user(user_id)
    handler = _HANDLERS[Action(action)]
    if action in (Action.ADD_ROLE, Action.REMOVE_ROLE):
        return handler(user, who, reason, _role(role))
    return handler(user, who, reason)


def _role(name: str | None) -> Role:
    found = datastore().find_role(name) if name else None
    if found is None:
        raise RoleNotFound("There is no such role.")
    return found


def _guard_last_admin(user: User, doing: str) -> None:
    """Refuse ``doing`` to ``user`` if they are the last active Admin (the rule is
    :func:`diary.services.accounts.is_last_active_admin`, shared with deleting an
    account)."""
    if accounts.is_last_active_admin(user, lock=True):
        raise LastAdmin(
            f"{user.email} is the last active Admin: you cannot {doing}. "
            "Make somebody else an Admin first."
        )


def _notify(user: User, subject: str, what: str, reason: str, **extra) -> None:
    """Mail ``user`` what an administrator did to their account, and why."""
    send_mail(
        subject,
        user.email,
        "admin/email/account_changed",
        user=user,
        what=what,
        reason=reason,
        base_url=current_app.config.get("BASE_URL", ""),
        **extra,
    )


def _lock(user: User, who: Who, reason: str) -> str:
    if lockout.held_by_admin(user):
        raise Unchanged(f"{user.email} is already locked.")
    _guard_last_admin(user, "lock this account")
    lockout.lock_by_admin(
        user, reason=reason, actor=who.actor, ip=who.ip, user_agent=who.user_agent
    )
    _notify(
        user,
        "Your Diary account was locked",
        "An administrator locked your Diary account: nobody can sign in to it "
        "until an administrator unlocks it.",
        reason,
    )
    return f"{user.email} is locked."


def _unlock(user: User, who: Who, reason: str) -> str:
    if not lockout.unlock(
        user, reason=reason, actor=who.actor, ip=who.ip, user_agent=who.user_agent
    ):
        raise Unchanged(f"{user.email} is not locked.")
    _notify(
        user,
        "Your Diary account was unlocked",
        "An administrator unlocked your Diary account: you can sign in again.",
        reason,
    )
    return f"{user.email} is unlocked."


def _deactivate(user: User, who: Who, reason: str) -> str:
    if not user.active:
        raise Unchanged(f"{user.email} is already deactivated.")
    _guard_last_admin(user, "deactivate this account")
    # The flush that turns ``active`` off ends every session and token in the same
    # transaction, and mails the user (diary.services.revocation).
    revocation.note_deactivation_reason(db.session, user, reason)
    datastore().deactivate_user(user)
    who.record(AuditTag.DEACTIVATED, user, reason)
    db.session.commit()
    return f"{user.email} is deactivated and signed out everywhere."


def _reactivate(user: User, who: Who, reason: str) -> str:
    if user.active:
        raise Unchanged(f"{user.email} is active already.")
    datastore().activate_user(user)
    who.record(AuditTag.REACTIVATED, user, reason)
    db.session.commit()
    _notify(
        user,
        "Your Diary account was reactivated",
        "An administrator reactivated your Diary account: you can sign in again.",
        reason,
    )
    return f"{user.email} is active again."


def _add_role(user: User, who: Who, reason: str, role: Role) -> str:
    if role in user.roles:
        raise Unchanged(f"{user.email} has the role {role.name} already.")
    datastore().add_role_to_user(user, role)
    who.record(AuditTag.ROLE_ADDED, user, reason, role=role.name)
    db.session.commit()
    _notify(
        user,
        "Your Diary roles changed",
        f"An administrator gave you the role {role.name}.",
        reason,
    )
    return f"{user.email} has the role {role.name} now."


def _remove_role(user: User, who: Who, reason: str, role: Role) -> str:
    if role not in user.roles:
        raise Unchanged(f"{user.email} does not have the role {role.name}.")
    if role.name == permissions.ADMIN:
        _guard_last_admin(user, "remove the Admin role")
    datastore().remove_role_from_user(user, role)
    who.record(AuditTag.ROLE_REMOVED, user, reason, role=role.name)
    db.session.commit()
    _notify(
        user,
        "Your Diary roles changed",
        f"An administrator took the role {role.name} from you.",
        reason,
    )
    return f"{user.email} no longer has the role {role.name}."


def _reset_password(user: User, who: Who, reason: str) -> str:
    if not current_app.config.get("SECURITY_RECOVERABLE"):
        raise NotPossible("Password reset is switched off (SECURITY_RECOVERABLE).")
    if not user.active:
        raise NotPossible(f"{user.email} is deactivated: reactivate the account first.")
    who.record(AuditTag.PASSWORD_RESET_SENT, user, reason, commit=True)
    # Flask-Security's own reset mail: its link works once, for
    # SECURITY_RESET_PASSWORD_WITHIN.
    send_reset_password_instructions(user)
    return f"A password reset link was sent to {user.email}."


def _reset_two_factor(user: User, who: Who, reason: str) -> str:
    method = user.tf_primary_method if user.tf_totp_secret else None
    second_factor_keys = [cred for cred in user.webauthn if cred.usage == "secondary"]
    if method is None and not second_factor_keys and not user.mf_recovery_codes:
        raise Unchanged(f"{user.email} has no second factor.")
    user.tf_primary_method = None
    user.tf_totp_secret = None
    user.tf_phone_number = None
    user.tf_added_at = None
    user.tf_totp_last_counter = None
    mfa.recovery_codes_discarded(user)
    for cred in second_factor_keys:
        datastore().delete_webauthn(cred)
    who.record(
        AuditTag.TWO_FACTOR_RESET,
        user,
        reason,
        method=method,
        passkeys=[cred.name for cred in second_factor_keys],
    )
    db.session.commit()
    _notify(
        user,
        "Your Diary sign-in settings changed",
        "An administrator reset your two-factor authentication: your authenticator "
        "app or email codes, passkeys used as a second factor and recovery codes no "
        "longer work. Set up a second factor again under Your account.",
        reason,
    )
    return f"{user.email}'s two-factor authentication is reset."


def _sign_out(user: User, who: Who, reason: str) -> str:
    ended = revocation.end_credentials(
        user,
        Trigger.SIGN_OUT_EVERYWHERE,
        actor=who.actor,
        reason=reason,
        ip=who.ip,
        user_agent=who.user_agent,
    )
    _notify(
        user,
        "You were signed out of Diary everywhere",
        "An administrator signed your Diary account out on every device.",
        reason,
        ended=ended,
    )
    return f"{user.email} is signed out everywhere."


_HANDLERS = {
    Action.LOCK: _lock,
    Action.UNLOCK: _unlock,
    Action.DEACTIVATE: _deactivate,
    Action.REACTIVATE: _reactivate,
    Action.ADD_ROLE: _add_role,
    Action.REMOVE_ROLE: _remove_role,
    Action.RESET_PASSWORD: _reset_password,
    Action.RESET_TWO_FACTOR: _reset_two_factor,
    Action.SIGN_OUT: _sign_out,
}


# --- Roles -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleInfo:
    """One role as the console lists it."""

    role: Role
    permissions: list[str]
    members: int


def list_roles() -> list[RoleInfo]:
    """Return every role with its permissions (in the order of
    :data:`diary.permissions.ALL`) and its number of members, by name."""
    roles = db.session.scalars(select(Role).order_by(Role.name))
    return [RoleInfo(role, _ordered(role), _members(role)) for role in roles]


def _members(role: Role) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(User.roles.any(Role.id == role.id))
    ) or 0


def _ordered(role: Role) -> list[str]:
    held = role.get_permissions()
    return [p for p in permissions.ALL if p in held] + sorted(held - set(permissions.ALL))


def get_role(role_id: int) -> RoleInfo:
    """Return role ``role_id``.

    :raises RoleNotFound: no such role.
    """
    role = db.session.get(Role, role_id)
    if role is None:
        raise RoleNotFound("There is no such role.")
    return RoleInfo(role, _ordered(role), _members(role))


def _known(permission: str) -> str:
    if permission not in permissions.DESCRIPTIONS:
        raise Invalid("There is no such permission.")
    return permission


def grant_permission(role_id: int, permission: str, who: Who, reason: str) -> None:
    """Give role ``role_id`` ``permission``; record it.

    :raises RoleNotFound, Unchanged, Invalid: nothing was changed.
    """
    reason = check_reason(reason)
    role = get_role(role_id).role
    permission = _known(permission)
    if permission in role.get_permissions():
        raise Unchanged(f"{role.name} has {permission} already.")
    datastore().add_permissions_to_role(role, [permission])
    _record_role(AuditTag.PERMISSION_GRANTED, role, who, reason, permission=permission)


def revoke_permission(role_id: int, permission: str, who: Who, reason: str) -> None:
    """Take ``permission`` from role ``role_id``; record it.

    :raises RoleNotFound, Unchanged, Invalid, LastAdmin: nothing was changed.
    """
    reason = check_reason(reason)
    role = get_role(role_id).role
    permission = _known(permission)
    if permission not in role.get_permissions():
        raise Unchanged(f"{role.name} does not have {permission}.")
    if permission == permissions.USER_MANAGE and not _others_may_manage(role):
        raise LastAdmin(
            f"Without {permission} in {role.name}, no active user could manage "
            "accounts any more."
        )
    datastore().remove_permissions_from_role(role, [permission])
    _record_role(AuditTag.PERMISSION_REVOKED, role, who, reason, permission=permission)


def _others_may_manage(role: Role) -> bool:
    """Return whether an active user holds ``user:manage`` through another role."""
    others = [
        r.id for r in db.session.scalars(select(Role))
        if r.id != role.id and permissions.USER_MANAGE in r.get_permissions()
    ]
    if not others:
        return False
    return bool(
        db.session.scalar(
            select(func.count(User.id)).where(
                User.active.is_(True), User.roles.any(Role.id.in_(others))
            )
        )
    )


def create_role(name: str, description: str, who: Who, reason: str) -> Role:
    """Create a role without permissions; record it and return it.

    :raises Invalid: an empty or too long name; Unchanged: the name is taken.
    """
    reason = check_reason(reason)
    name = (name or "").strip()
    if not name or len(name) > ROLE_NAME_MAX_LENGTH:
        raise Invalid(f"A role needs a name of 1 to {ROLE_NAME_MAX_LENGTH} characters.")
    if datastore().find_role(name) is not None:
        raise Unchanged(f"There is a role “{name}” already.")
    role = datastore().create_role(
        name=name, description=(description or "").strip() or None, permissions=[]
    )
    db.session.flush()
    _record_role(AuditTag.ROLE_CREATED, role, who, reason)
    return role


def _record_role(tag: AuditTag, role: Role, who: Who, reason: str, **details) -> None:
    who.record(tag, None, reason, role=role.name, **details)
    db.session.commit()
