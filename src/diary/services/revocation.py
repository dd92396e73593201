"""What ends a user's sessions and tokens, in one place.

These events end every other way into the account: its signed-in sessions and
remembered devices, the refresh tokens of apps signed in with a password, its
personal access tokens, and (by a new ``fs_uniquifier``) its Flask-Security auth
tokens:

========================  =======================================================
a password change         every session but the one that changed it
a password reset          every session
an email change           every session but the one that confirmed it
"sign out everywhere"     every session, this one too
deactivation              every session
deleting the account      every session (and then the account)
the first second factor   every session but the one that set it up
========================  =======================================================

Each is recorded in the audit log with what it ended, and the mail that tells the
user about the event lists what was ended (:class:`~diary.services.sessions.Ended`).
"""

from __future__ import annotations

import enum

from flask import current_app
from flask_security import url_for_security
from flask_security.utils import naive_utcnow, send_mail
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from diary.extensions import datastore, db
from diary.models import ApiToken, AuditEvent, User, UserSession
from diary.models.types import utcnow
from diary.services import sessions, tokens
from diary.services.audit import AuditTag, record_event
from diary.services.sessions import Ended


class Trigger(enum.StrEnum):
    """The events that end a user's sessions and tokens."""

    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGED = "email_changed"
    SIGN_OUT_EVERYWHERE = "sign_out_everywhere"
    DEACTIVATED = "deactivated"
    TWO_FACTOR_ENROLLED = "two_factor_enrolled"
    ACCOUNT_DELETED = "account_deleted"


def end_credentials(
    user: User,
    trigger: Trigger,
    *,
    keep_session: str | None = None,
    actor: User | None = None,
    reason: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    commit: bool = True,
) -> Ended:
    """End ``user``'s sessions (all but the device ``keep_session``), refresh
    tokens, personal access tokens and auth tokens; record it; return what was
    ended.

    :param reason: an administrator's reason (the admin console), kept in the event.
    :param commit: commit now (default); False inside a change the library commits
        itself (a password change …), so that the change, its record and what it
        ends are stored together or not at all.

    The caller that keeps its own session must store the user's new
    ``fs_uniquifier`` in it (Flask-Login's user id), as Flask-Security's own
    password change does by signing the user in again.
    """
    ended = sessions.end_devices(user, keep=keep_session)
    revoked = tokens.revoke_all_tokens(
        user, reason=str(trigger), actor=actor, ip=ip, user_agent=user_agent, commit=False
    )
    ended.tokens = revoked.names
    ended.refresh_tokens = revoked.refresh_tokens
    # Auth tokens (and any session the rows above did not know) carry the old value.
    datastore().set_uniquifier(user)
    tag = (
        AuditTag.SIGNED_OUT_EVERYWHERE
        if trigger == Trigger.SIGN_OUT_EVERYWHERE
        else AuditTag.SESSIONS_ENDED
    )
    record_event(
        tag,
        user=user,
        actor=actor,
        ip=ip,
        user_agent=user_agent,
        details={"trigger": str(trigger), **ended.details()}
        | ({"reason": reason} if reason else {}),
        commit=False,
    )
    if commit:
        db.session.commit()
    sessions.forget_stored(ended)
    return ended


def sign_out_everywhere(
    user: User, *, ip: str | None = None, user_agent: str | None = None
) -> Ended:
    """End every session and token of ``user``, on every device, this one too;
    mail the user what was ended, and return it."""
    ended = end_credentials(user, Trigger.SIGN_OUT_EVERYWHERE, ip=ip, user_agent=user_agent)
    _notify_signed_out_everywhere(user, ended)
    return ended


def _notify_signed_out_everywhere(user: User, ended: Ended) -> None:
    """Mail ``user`` that every session was ended on their request, and which."""
    reset_url = None
    if current_app.config["SECURITY_RECOVERABLE"]:
        reset_url = current_app.config["BASE_URL"].rstrip("/") + url_for_security(
            "forgot_password"
        )
    send_mail(
        "You signed out of Diary everywhere",
        user.email,
        "security/email/signed_out_everywhere",
        user=user,
        ended=ended,
        reset_url=reset_url,
    )


# --- Deactivation, however it happens ------------------------------------------------


def watch_deactivations() -> None:
    """End a user's sessions and tokens whenever the account is deactivated,
    however that happens (``flask users deactivate``, the datastore, an admin
    page): every flush that turns ``User.active`` from true to false ends them in
    the same transaction, and the user is mailed once it commits. Idempotent;
    called once per app by the security wiring."""
    if not event.contains(Session, "before_flush", _on_flush):
        event.listen(Session, "before_flush", _on_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)


PENDING_KEY = "diary_deactivated"
REASONS_KEY = "diary_deactivation_reasons"


def note_deactivation_reason(session: Session, user: User, reason: str) -> None:
    """Keep an administrator's ``reason`` for deactivating ``user`` until the
    deactivation commits, for the mail that tells the user."""
    session.info.setdefault(REASONS_KEY, {})[user.id] = reason


def _on_flush(session: Session, _context, _instances) -> None:
    for obj in list(session.dirty):
        if not isinstance(obj, User):
            continue
        history = db.inspect(obj).attrs.active.history
        if not (history.deleted and history.deleted[0] and not obj.active):
            continue
        rows = session.scalars(select(UserSession).where(UserSession.user_id == obj.id))
        ended = sessions.delete_rows(session, list(rows))
        now = utcnow()
        for token in session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == obj.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id)
        ):
            token.revoked_at = now
            ended.tokens.append(token.name)
        for tracker in obj.refresh_trackers:
            if tracker.revoked_at is None:
                tracker.revoked_at = naive_utcnow()  # the library's naive UTC
                ended.refresh_tokens += 1
        # Added to the flush under way: committed with the deactivation.
        if ended.tokens:
            session.add(
                AuditEvent(
                    tag=str(AuditTag.TOKEN_REVOKED),
                    user_id=obj.id,
                    details={
                        "all": True,
                        "count": len(ended.tokens),
                        "reason": str(Trigger.DEACTIVATED),
                    },
                )
            )
        session.add(
            AuditEvent(
                tag=str(AuditTag.SESSIONS_ENDED),
                user_id=obj.id,
                details={"trigger": str(Trigger.DEACTIVATED), **ended.details()},
            )
        )
        session.info.setdefault(PENDING_KEY, []).append((obj.id, obj.email, ended))


def _after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    reasons = session.info.pop(REASONS_KEY, {})
    if not pending:
        return
    for user_id, email, ended in pending:
        sessions.forget_stored(ended)
        send_mail(
            "Your Diary account was deactivated",
            email,
            "security/email/deactivated",
            user_id=user_id,
            email=email,
            ended=ended,
            reason=reasons.get(user_id),
        )


def _after_rollback(session: Session, _previous) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(REASONS_KEY, None)
