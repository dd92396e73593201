"""The security audit log: every tag in one enum, one function that records.

Callers (Flask-Security signal handlers, the lockout code, views, the CLI) pass
plain values; :func:`diary.security.client.client_info` gives them the IP address
and user agent of the current request.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import select

from diary.extensions import db
from diary.models import AuditEvent, User


class AuditTag(enum.StrEnum):
    """Every kind of audit event. The value is what is stored."""

    ACCOUNT_REGISTERED = "account:register"
    REGISTERED_AGAIN = "account:register:existing"
    EMAIL_CONFIRMED = "account:email:confirmed"
    LOGIN_SUCCESS = "account:login:success"
    LOGIN_FAILURE = "account:login:failure"
    LOGOUT = "account:logout"
    ACCOUNT_LOCKED = "account:lockout:locked"
    ACCOUNT_UNLOCKED = "account:lockout:unlocked"
    PASSWORD_CHANGED = "account:password:change"
    PASSWORD_RESET_REQUESTED = "account:password:reset_request"
    PASSWORD_RESET = "account:password:reset"
    EMAIL_CHANGE_REQUESTED = "account:email:change_request"
    EMAIL_CHANGED = "account:email:change"
    SIGNED_OUT_EVERYWHERE = "account:sessions:sign_out_everywhere"
    SESSIONS_ENDED = "account:sessions:ended"
    DEVICE_SIGNED_OUT = "account:sessions:device_signed_out"
    DEACTIVATED = "account:deactivated"
    REACTIVATED = "account:reactivated"
    TWO_FACTOR_METHOD_ADDED = "account:two_factor:method_added"
    TWO_FACTOR_METHOD_REMOVED = "account:two_factor:method_removed"
    TWO_FACTOR_FAILURE = "account:two_factor:failure"
    RECOVERY_CODES_GENERATED = "account:recovery_codes:generated"
    RECOVERY_CODE_USED = "account:recovery_codes:used"
    PASSKEY_REGISTERED = "account:passkey:registered"
    PASSKEY_DELETED = "account:passkey:deleted"
    TOKEN_CREATED = "account:token:created"
    TOKEN_FIRST_USED = "account:token:first_use"
    TOKEN_REVOKED = "account:token:revoked"
    TOKEN_AUTH_FAILURE = "account:token:auth_failure"
    DISPLAY_NAME_CHANGED = "account:profile:name"
    TIME_ZONE_CHANGED = "account:profile:time_zone"
    ACCOUNT_DELETED = "account:deleted"
    # Access receipts: somebody else opened, edited or deleted the user's entry.
    ENTRY_ACCESS_READ = "entry:access:read"
    ENTRY_ACCESS_EDIT = "entry:access:edit"
    ENTRY_ACCESS_DELETE = "entry:access:delete"
    # The admin console (issue 10): each carries the acting admin and their reason.
    LOCKED_BY_ADMIN = "account:lockout:locked_by_admin"
    ROLE_ADDED = "account:role:added"
    ROLE_REMOVED = "account:role:removed"
    PASSWORD_RESET_SENT = "account:password:reset_sent"
    TWO_FACTOR_RESET = "account:two_factor:reset"
    ROLE_CREATED = "role:created"
    PERMISSION_GRANTED = "role:permission:granted"
    PERMISSION_REVOKED = "role:permission:revoked"
    AUDIT_PRUNED = "audit_log:pruned"
    # Export and import (issue 11): the format or source and how many entries.
    ENTRIES_EXPORTED = "entries:exported"
    ENTRIES_IMPORTED = "entries:imported"


# How each event reads on the user's activity page.
DESCRIPTIONS: dict[AuditTag, str] = {
    AuditTag.ACCOUNT_REGISTERED: "Account created",
    AuditTag.REGISTERED_AGAIN: "Someone tried to create an account with this address",
    AuditTag.EMAIL_CONFIRMED: "Email address confirmed",
    AuditTag.LOGIN_SUCCESS: "Signed in",
    AuditTag.LOGIN_FAILURE: "Failed sign-in attempt",
    AuditTag.LOGOUT: "Signed out",
    AuditTag.ACCOUNT_LOCKED: "Account locked after failed sign-in attempts",
    AuditTag.ACCOUNT_UNLOCKED: "Account unlocked",
    AuditTag.PASSWORD_CHANGED: "Password changed",
    AuditTag.PASSWORD_RESET_REQUESTED: "Password reset requested",
    AuditTag.PASSWORD_RESET: "Password reset",
    AuditTag.EMAIL_CHANGE_REQUESTED: "Email change requested",
    AuditTag.EMAIL_CHANGED: "Email address changed",
    AuditTag.SIGNED_OUT_EVERYWHERE: "Signed out everywhere",
    AuditTag.SESSIONS_ENDED: "Other sessions and tokens ended",
    AuditTag.DEVICE_SIGNED_OUT: "A device was signed out",
    AuditTag.DEACTIVATED: "Account deactivated",
    AuditTag.REACTIVATED: "Account reactivated",
    AuditTag.TWO_FACTOR_METHOD_ADDED: "Two-factor method added",
    AuditTag.TWO_FACTOR_METHOD_REMOVED: "Two-factor method removed",
    AuditTag.TWO_FACTOR_FAILURE: "Wrong two-factor code",
    AuditTag.RECOVERY_CODES_GENERATED: "Recovery codes generated",
    AuditTag.RECOVERY_CODE_USED: "Recovery code used",
    AuditTag.PASSKEY_REGISTERED: "Passkey registered",
    AuditTag.PASSKEY_DELETED: "Passkey deleted",
    AuditTag.TOKEN_CREATED: "Access token created",
    AuditTag.TOKEN_FIRST_USED: "Access token used for the first time",
    AuditTag.TOKEN_REVOKED: "Access token revoked",
    AuditTag.TOKEN_AUTH_FAILURE: "Refused access token",
    AuditTag.DISPLAY_NAME_CHANGED: "Display name changed",
    AuditTag.TIME_ZONE_CHANGED: "Time zone changed",
    AuditTag.ACCOUNT_DELETED: "Account deleted",
    # The activity page words these with who, which entry and why (services.receipts).
    AuditTag.ENTRY_ACCESS_READ: "Somebody else read one of your entries",
    AuditTag.ENTRY_ACCESS_EDIT: "Somebody else edited one of your entries",
    AuditTag.ENTRY_ACCESS_DELETE: "Somebody else deleted one of your entries",
    AuditTag.LOCKED_BY_ADMIN: "Account locked by an administrator",
    AuditTag.ROLE_ADDED: "Role added by an administrator",
    AuditTag.ROLE_REMOVED: "Role removed by an administrator",
    AuditTag.PASSWORD_RESET_SENT: "Password reset link sent by an administrator",
    AuditTag.TWO_FACTOR_RESET: "Two-factor authentication reset by an administrator",
    AuditTag.ROLE_CREATED: "Role created",
    AuditTag.PERMISSION_GRANTED: "Permission granted to a role",
    AuditTag.PERMISSION_REVOKED: "Permission revoked from a role",
    AuditTag.AUDIT_PRUNED: "Old audit events deleted",
    AuditTag.ENTRIES_EXPORTED: "Entries exported",
    AuditTag.ENTRIES_IMPORTED: "Entries imported",
}


def record_event(
    tag: AuditTag,
    *,
    user: User | int | None = None,
    actor: User | int | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    details: dict[str, Any] | None = None,
    commit: bool = True,
) -> AuditEvent:
    """Store one audit event and return it.

    :param user: the account the event concerns (object or id), if known.
    :param actor: who acted, when not the user themself (an admin).
    :param details: small JSON-able facts (never a secret, password or token).
    :param commit: commit now (default). Failure events must be committed on their
        own, because the request that caused them rolls back or never commits.
    """
    event = AuditEvent(
        tag=str(AuditTag(tag)),
        user_id=_id(user),
        actor_id=_id(actor),
        ip=ip,
        user_agent=(user_agent or None) and user_agent[:512],
        details=details or {},
    )
    db.session.add(event)
    if commit:
        db.session.commit()
    return event


def recent_events(user: User, limit: int = 50) -> list[AuditEvent]:
    """Return ``user``'s latest ``limit`` events, newest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.user_id == user.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def acted_by(events: list[AuditEvent]) -> dict[int, str]:
    """Return, by event id, who did each of ``events`` that somebody else did to
    the user (an administrator) and why: " by admin@example.com (reason: …)".

    The acting account is named by its address, not its display name: a name is
    chosen freely and could pass for somebody else.
    """
    acted = [e for e in events if e.actor_id is not None and e.actor_id != e.user_id]
    if not acted:
        return {}
    emails = dict(
        db.session.execute(
            select(User.id, User.email).where(User.id.in_({e.actor_id for e in acted}))
        ).all()
    )
    said = {}
    for event in acted:
        text = f" by {emails.get(event.actor_id, 'an account since deleted')}"
        reason = (event.details or {}).get("reason")
        if isinstance(reason, str) and reason:
            text += f" (reason: {reason})"
        said[event.id] = text
    return said


def describe(tag: str) -> str:
    """Return the human wording of ``tag`` (the tag itself if unknown)."""
    try:
        return DESCRIPTIONS[AuditTag(tag)]
    except ValueError:
        return tag


def _id(value: User | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return value.id
