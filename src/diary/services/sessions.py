"""Sessions: how long a signed-in session lasts, and ending all of a user's sessions.

A session ends on the server, whatever its cookie says, when it has been idle for
``SESSION_IDLE_TIMEOUT`` seconds or was signed in ``SESSION_ABSOLUTE_LIFETIME``
seconds ago (OWASP ASVS 3.3). :mod:`diary.security.sessions` keeps the two times
in the session and asks :func:`expiry_reason` on every request.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask import current_app

from diary.extensions import db, security
from diary.models import User
from diary.models.types import utcnow
from diary.services import audit, tokens
from diary.services.audit import AuditTag


def now() -> datetime:
    """Return the current UTC time. The one clock of this module: tests replace it."""
    return utcnow()


class Expiry(enum.StrEnum):
    """Why a session ended on its own."""

    IDLE = "idle"
    ABSOLUTE = "absolute"


def expiry_reason(
    signed_in_at: float, last_seen_at: float, at: float | None = None
) -> Expiry | None:
    """Return why a session signed in at ``signed_in_at`` and last used at
    ``last_seen_at`` (POSIX timestamps) has ended by ``at``, or None if it is alive.

    :param at: the time to judge at; default :func:`now`.
    """
    at = now().timestamp() if at is None else at
    config = current_app.config
    if at - signed_in_at >= float(config["SESSION_ABSOLUTE_LIFETIME"]):
        return Expiry.ABSOLUTE
    if at - last_seen_at >= float(config["SESSION_IDLE_TIMEOUT"]):
        return Expiry.IDLE
    return None


def sign_out_everywhere(
    user: User,
    *,
    actor: User | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    """End every session and token of ``user``, on every device, this one too.

    Flask-Security identifies a signed-in user by ``fs_uniquifier`` everywhere: the
    session cookie stores it (Flask-Login's user id), the "remember me" cookie
    signs it and the library's auth tokens carry it. A new value makes all of them
    point at nobody. ``fs_token_uniquifier`` (if a later model has it) and refresh
    tokens are rotated and revoked too, so no credential the library issued
    survives. Diary's own personal access tokens are revoked too
    (:func:`diary.services.tokens.revoke_all_tokens`).
    """
    datastore = security.datastore
    datastore.set_uniquifier(user)
    datastore.set_token_uniquifier(user)  # no-op on fsqla_v4, which has no column
    # Personal access tokens, and the refresh tokens of the library's auth tokens.
    tokens.revoke_all_tokens(
        user, reason="sign_out_everywhere", actor=actor, ip=ip, user_agent=user_agent,
        commit=False,
    )
    audit.record_event(
        AuditTag.SIGNED_OUT_EVERYWHERE,
        user=user,
        actor=actor,
        ip=ip,
        user_agent=user_agent,
        commit=False,
    )
    db.session.commit()

