"""Multi-factor authentication: the required-roles policy, the factor overview for
/account, and the audit events and notices that follow every change.

Flask-Security owns the factors themselves (TOTP and email codes, recovery codes,
passkeys); its hooks in :mod:`diary.security` call the functions here with plain
values (the user, the client's IP address and user agent).

The policy rule (``MFA_REQUIRED_ROLES``, default ``["Admin"]``)
----------------------------------------------------------------
A member of a required role who has no second factor, or who came in through a
credential that did not pass one, keeps only what they would have without that
role: the permissions of their other roles and of the role every account gets
(``DEFAULT_ROLE``, Writer), unless that one is required too. Every other permission
they hold (with the built-in roles: reading, editing and deleting anybody's
entries, managing users) is withheld, and so are the required roles themselves.
The rule is applied to every request, whatever the credential, by
:func:`diary.services.credentials.effective_permissions`, from the parts here
(:func:`required_roles`, :func:`elevated_permissions`, :func:`has_second_factor`).
Pages guarded by a withheld permission or role send the user to set up a second
factor; the services' own checks refuse too. So an Admin without a second factor
can still write their own diary, and a Writer never needs one.

"A second factor" is what a password login will ask for: an authenticator app,
email codes, or a passkey registered as a second factor (Flask-Security's
``get_setup_tf_methods``). A passkey registered for passwordless sign-in does not
count, because it does not protect a login with the password.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import current_app
from flask_security.utils import send_mail

from diary.extensions import db
from diary.models import Role, User
from diary.models.types import utcnow
from diary.security.client import ClientInfo
from diary.services.audit import AuditTag, record_event
from diary.services.sessions import Ended

# Time step of authenticator and email codes (RFC 6238 default, as passlib uses).
TOTP_PERIOD = 30

METHOD_NAMES = {
    "authenticator": "Authenticator app",
    "email": "Email codes",
    "webauthn": "Passkey as a second factor",
}


class Change(enum.Enum):
    """A change to a user's factors that the user is told about by mail."""

    METHOD_ADDED = "A two-factor method was switched on: {detail}."
    METHOD_REMOVED = "A two-factor method was switched off: {detail}."
    PASSKEY_REGISTERED = "A passkey was added: {detail}."
    PASSKEY_DELETED = "A passkey was deleted: {detail}."
    RECOVERY_CODES_REGENERATED = (
        "New recovery codes were generated; the old ones no longer work."
    )
    RECOVERY_CODE_USED = "A recovery code was used to sign in ({detail} left)."


# --- The policy --------------------------------------------------------------------


def required_roles() -> set[str]:
    """Return the names of the roles whose members need a second factor."""
    return set(current_app.config.get("MFA_REQUIRED_ROLES") or [])


def _permissions_of(roles) -> set[str]:
    found: set[str] = set()
    for role in roles:
        found.update(role.get_permissions())
    return found


def elevated_permissions(user: User) -> set[str]:
    """Return the permissions ``user`` holds only through required roles: those a
    missing second factor withholds (see the module doc)."""
    required = required_roles()
    if not required:
        return set()
    through_required = _permissions_of(r for r in user.roles if r.name in required)
    kept = _permissions_of(r for r in user.roles if r.name not in required)
    default_role = current_app.config.get("DEFAULT_ROLE")
    if default_role and default_role not in required:
        role = db.session.scalar(db.select(Role).where(Role.name == default_role))
        if role is not None:
            kept |= role.get_permissions()
    return through_required - kept


def has_second_factor(user: User) -> bool:
    """Return whether a password login of ``user`` asks for a second factor."""
    from flask_security.proxies import _security

    return bool(_security.two_factor_plugins.get_setup_tf_methods(user))


# --- What /account shows -------------------------------------------------------


@dataclass(frozen=True)
class PasskeyInfo:
    """One registered passkey as the account page lists it."""

    name: str
    usage: str  # "first" (sign in with it alone) or "secondary" (second factor)
    added_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class FactorOverview:
    """Everything the account page says about a user's factors."""

    method: str | None  # "authenticator", "email" or None
    method_added_at: datetime | None
    method_last_used_at: datetime | None
    passkeys: list[PasskeyInfo] = field(default_factory=list)
    recovery_codes_left: int = 0
    recovery_codes_generated_at: datetime | None = None
    has_second_factor: bool = False
    second_factor_required: bool = False

    @property
    def method_name(self) -> str | None:
        """Return the method's name for people."""
        return METHOD_NAMES.get(self.method) if self.method else None


def factor_overview(user: User) -> FactorOverview:
    """Return the overview of ``user``'s factors for the account page."""
    method = user.tf_primary_method if user.tf_totp_secret else None
    last_used = None
    if method and user.tf_totp_last_counter is not None:
        # The counter is the code's time step: it tells when the code was made.
        last_used = datetime.fromtimestamp(
            user.tf_totp_last_counter * TOTP_PERIOD, timezone.utc
        )
    passkeys = [
        PasskeyInfo(
            name=cred.name,
            usage=cred.usage,
            added_at=_aware(cred.create_datetime),
            last_used_at=_aware(cred.lastuse_datetime),
        )
        for cred in sorted(user.webauthn, key=lambda c: c.name.lower())
    ]
    required = bool(required_roles() & {r.name for r in user.roles})
    return FactorOverview(
        method=method,
        method_added_at=user.tf_added_at if method else None,
        method_last_used_at=last_used,
        passkeys=passkeys,
        recovery_codes_left=len(user.mf_recovery_codes or []),
        recovery_codes_generated_at=user.mf_recovery_codes_generated_at,
        has_second_factor=has_second_factor(user),
        second_factor_required=required,
    )


def _aware(value: datetime | None) -> datetime | None:
    # Flask-Security's own columns hold naive UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


# --- Events: audit log and notices ---------------------------------------------


def method_added(
    user: User,
    method: str,
    client: ClientInfo,
    replaced: str | None = None,
    ended: Ended | None = None,
) -> None:
    """Record that ``user`` switched on ``method`` (authenticator or email),
    replacing the method ``replaced`` if they had another one.

    The library commits the request's changes afterwards; so does this event.
    """
    user.tf_added_at = utcnow()
    # tf_totp_last_counter is left as the confirmation set it: the code that
    # switched the method on is used up too.
    details = {"method": method} | ({"replaced": replaced} if replaced else {})
    _record(AuditTag.TWO_FACTOR_METHOD_ADDED, user, client, details)
    _notify(user, Change.METHOD_ADDED, METHOD_NAMES.get(method, method), ended)


def method_removed(user: User, method: str | None, client: ClientInfo) -> None:
    """Record that ``user`` switched their two-factor method off."""
    user.tf_added_at = None
    user.tf_totp_last_counter = None
    _record(AuditTag.TWO_FACTOR_METHOD_REMOVED, user, client, {"method": method})
    _notify(user, Change.METHOD_REMOVED, METHOD_NAMES.get(method or "", "two-factor"))


def passkey_registered(
    user: User, name: str, client: ClientInfo, ended: Ended | None = None
) -> None:
    """Record that ``user`` registered the passkey ``name``."""
    usage = next((c.usage for c in user.webauthn if c.name == name), None)
    _record(AuditTag.PASSKEY_REGISTERED, user, client, {"name": name, "usage": usage})
    _notify(user, Change.PASSKEY_REGISTERED, name, ended)


def passkey_deleted(user: User, name: str, client: ClientInfo) -> None:
    """Record that ``user`` deleted the passkey ``name``."""
    _record(AuditTag.PASSKEY_DELETED, user, client, {"name": name})
    _notify(user, Change.PASSKEY_DELETED, name)


def recovery_codes_generated(user: User, replaced: bool, client: ClientInfo) -> None:
    """Record a new set of recovery codes; mail the user when it replaced one."""
    user.mf_recovery_codes_generated_at = utcnow()
    _record(AuditTag.RECOVERY_CODES_GENERATED, user, client, {"replaced": replaced})
    if replaced:
        _notify(user, Change.RECOVERY_CODES_REGENERATED)


def recovery_code_used(user: User, remaining: int, client: ClientInfo) -> None:
    """Record that a recovery code of ``user`` was used to sign in."""
    _record(AuditTag.RECOVERY_CODE_USED, user, client, {"remaining": remaining})
    _notify(user, Change.RECOVERY_CODE_USED, str(remaining))


def recovery_codes_discarded(user: User) -> None:
    """Drop ``user``'s recovery codes: they have no second factor left to recover."""
    user.mf_recovery_codes = None
    user.mf_recovery_codes_generated_at = None


def second_factor_failed(user: User, kind: str, client: ClientInfo) -> None:
    """Record a wrong code, recovery code or passkey at the second-factor step.

    Committed at once: the failed request itself commits nothing.
    """
    record_event(
        AuditTag.TWO_FACTOR_FAILURE,
        user=user,
        ip=client.ip,
        user_agent=client.user_agent,
        details={"kind": kind},
        commit=True,
    )


def _record(tag: AuditTag, user: User, client: ClientInfo, details: dict) -> None:
    record_event(
        tag,
        user=user,
        ip=client.ip,
        user_agent=client.user_agent,
        details=details,
        commit=False,
    )


def _notify(user: User, change: Change, detail: str = "", ended: Ended | None = None) -> None:
    """Mail ``user`` about a change to their factors (so a stranger's change shows),
    and what it ended, if anything (the first second factor)."""
    send_mail(
        "Your Diary sign-in settings changed",
        user.email,
        "security/email/mfa_changed",
        user=user,
        change=change.value.format(detail=detail),
        base_url=current_app.config.get("BASE_URL", ""),
        ended=ended,
    )
