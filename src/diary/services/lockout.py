"""Account lockout: consecutive failed sign-ins lock an account for a while.

The rule (settings ``LOCKOUT_*``): ``LOCKOUT_THRESHOLD`` consecutive failures lock
the account for ``LOCKOUT_DURATION`` seconds; every further lockout before the next
success doubles the wait, up to ``LOCKOUT_MAX_DURATION``. A success, a completed
password reset or an operator's unlock clears it. While the account is locked even
the right credentials are refused, with the same generic message as a wrong
password (the hooks in :mod:`diary.security.lockout` take care of that).

Every failure counts, whichever credential failed (password, passcode, passkey,
second-factor code): the caller tells which only for the audit log. Failures keep
being counted while the account is locked, but they do not extend the lockout;
the first failure after a lockout has run out starts a new count, and the next
lockout then waits twice as long.

The counter is incremented by one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
statement on a connection of its own, committed at once: the login request that
failed never commits, and parallel guesses each get a distinct count, so they
cannot slip past the threshold (see ``tests/services/test_lockout.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, case, exists, or_, select, update

from diary.extensions import db
from diary.models import AccountLockout, User
from diary.models.types import dialect_insert, utcnow
from diary.services import audit
from diary.services.audit import AuditTag

_table = AccountLockout.__table__

# An administrator's lock (the admin console) lasts until an administrator lifts
# it: failures never end it, and neither does the owner's password reset.
ADMIN_LOCK_UNTIL = datetime(9999, 12, 31, tzinfo=timezone.utc)


def now() -> datetime:
    """Return the current UTC time. The one clock of this module: tests replace it."""
    return utcnow()


@dataclass(frozen=True)
class Failure:
    """What one failed attempt did to the account."""

    # Consecutive failures counted so far, this one included.
    failures: int
    # When sign-in is possible again, if the account is locked now.
    locked_until: datetime | None
    # True if this very failure locked the account.
    newly_locked: bool


def lock_duration(earlier_lockouts: int) -> timedelta:
    """Return how long the next lockout lasts after ``earlier_lockouts`` lockouts:
    ``LOCKOUT_DURATION`` doubled per earlier lockout, capped at
    ``LOCKOUT_MAX_DURATION``."""
    base = int(current_app.config["LOCKOUT_DURATION"])
    longest = int(current_app.config["LOCKOUT_MAX_DURATION"])
    # Cap the exponent too: 2**n of an attacker-driven n must stay a small number.
    return timedelta(seconds=min(base * 2 ** min(earlier_lockouts, 32), longest))


def record_failure(
    user: User,
    *,
    method: str,
    second_factor: bool = False,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Failure:
    """Count one failed authentication of ``user`` and lock the account when the
    threshold is reached; record a failed sign-in (first factor) and a lockout in
    the audit log, and mail the owner when the account gets locked.

    :param method: what failed, as Flask-Security names it (``password``,
        ``passcode``, ``passkey``, ``code`` …); for the audit log only.
    :param second_factor: it was a second factor that failed.
    :return: the account's state after this failure.
    """
    at = now()
    threshold = int(current_app.config["LOCKOUT_THRESHOLD"])
    # A connection and transaction of its own, committed when the block ends: the
    # request that failed rolls back, but the count must stay.
    with db.engine.begin() as conn:
        row = conn.execute(_increment(user.id, at)).one()
        locked_until = row.locked_until if _locked(row.locked_until, at) else None
        newly_locked = False
        if locked_until is None and row.failures >= threshold:
            until = at + lock_duration(row.lockouts)
            # Only one of several parallel failures may lock (and mail): the one
            # whose conditional update still finds the account unlocked with the
            # lockout count it read.
            locked = conn.execute(
                update(_table)
                .where(
                    _table.c.user_id == user.id,
                    _table.c.lockouts == row.lockouts,
                    or_(_table.c.locked_until.is_(None), _table.c.locked_until <= at),
                )
                .values(locked_until=until, lockouts=_table.c.lockouts + 1)
                .returning(_table.c.locked_until)
            ).first()
            newly_locked = locked is not None
            locked_until = until if newly_locked else _read_locked_until(conn, user.id)
    if not second_factor:
        # A wrong second factor is recorded as account:two_factor:failure by the
        # multi-factor code (diary.services.mfa), which listens to the library's
        # user_failed_authn signal; recording it here too would show it twice.
        audit.record_event(
            AuditTag.LOGIN_FAILURE,
            user=user,
            ip=ip,
            user_agent=user_agent,
            details={"method": method, "failures": row.failures},
        )
    if newly_locked:
        audit.record_event(
            AuditTag.ACCOUNT_LOCKED,
            user=user,
            ip=ip,
            user_agent=user_agent,
            details={"failures": row.failures, "until": locked_until.isoformat()},
        )
        if current_app.config["LOCKOUT_NOTIFY"]:
            _notify_locked(user, at=at, until=locked_until, ip=ip)
    return Failure(row.failures, locked_until, newly_locked)


def locked_until(user: User) -> datetime | None:
    """Return when ``user``'s lockout ends, or None if the account is not locked."""
    until = db.session.execute(
        select(_table.c.locked_until).where(_table.c.user_id == user.id)
    ).scalar()
    return until if _locked(until, now()) else None


def locked_at(until: datetime | None) -> bool:
    """Return whether a lockout that lasts ``until`` (None: no lockout) holds now."""
    return _locked(until, now())


def is_locked(user: User) -> bool:
    """Return whether ``user``'s account is locked now."""
    return locked_until(user) is not None


def refuse_if_locked(
    user: User, *, ip: str | None = None, user_agent: str | None = None
) -> bool:
    """Return whether ``user``'s account is locked now; if it is, record the
    refused sign-in in the audit log.

    Called once the credentials did verify: the owner (or whoever has the
    password) tried while locked out, which the activity page should show. It is
    not a failure and does not count towards the lockout.
    """
    until = locked_until(user)
    if until is None:
        return False
    audit.record_event(
        AuditTag.LOGIN_FAILURE,
        user=user,
        ip=ip,
        user_agent=user_agent,
        details={"reason": "locked", "until": until.isoformat()},
    )
    return True


def failure_count(user: User) -> int:
    """Return ``user``'s consecutive failed attempts (0 when there is no record)."""
    count = db.session.execute(
        select(_table.c.failures).where(_table.c.user_id == user.id)
    ).scalar()
    return count or 0


def record_success(user: User) -> None:
    """Forget ``user``'s failures and earlier lockouts after a successful sign-in.

    Runs inside the login request, which commits it; an account that never
    failed costs one UPDATE that touches no row.
    """
    db.session.execute(_clear(user.id))


def held_by_admin(user: User) -> bool:
    """Return whether ``user``'s account is locked by an administrator."""
    until = locked_until(user)
    return until is not None and until >= ADMIN_LOCK_UNTIL


def lock_by_admin(
    user: User,
    *,
    reason: str,
    actor: User | None,
    ip: str | None = None,
    user_agent: str | None = None,
    commit: bool = True,
) -> None:
    """Lock ``user``'s account until an administrator unlocks it, and record it
    with ``actor`` and ``reason``. Its sessions and tokens are refused at once
    (:func:`diary.services.credentials.admit`), not ended: they work again once
    the account is unlocked."""
    insert = dialect_insert(db.engine.dialect.name)
    db.session.execute(
        insert(_table)
        .values(user_id=user.id, failures=0, lockouts=0, locked_until=ADMIN_LOCK_UNTIL)
        .on_conflict_do_update(
            index_elements=[_table.c.user_id], set_={"locked_until": ADMIN_LOCK_UNTIL}
        )
    )
    audit.record_event(
        AuditTag.LOCKED_BY_ADMIN,
        user=user,
        actor=actor,
        ip=ip,
        user_agent=user_agent,
        details={"reason": reason},
        commit=False,
    )
    if commit:
        db.session.commit()


def unlock(
    user: User,
    *,
    reason: str,
    actor: User | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    lift_admin_lock: bool = True,
) -> bool:
    """Unlock ``user``'s account and forget its failures; record the unlock in the
    audit log if the account was locked.

    :param reason: why, for the audit log: ``password_reset``, ``cli``, or the
        reason an administrator gave in the admin console.
    :param lift_admin_lock: False: an administrator's lock stays (the owner's own
        password reset forgets the failures but cannot lift it).
    :return: whether the account was locked.
    """
    if not lift_admin_lock and held_by_admin(user):
        db.session.execute(
            update(_table).where(_table.c.user_id == user.id).values(failures=0)
        )
        db.session.commit()
        return False
    was_locked = is_locked(user)
    db.session.execute(_clear(user.id))
    if was_locked:
        audit.record_event(
            AuditTag.ACCOUNT_UNLOCKED,
            user=user,
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            details={"reason": reason},
            commit=False,
        )
    db.session.commit()
    return was_locked


def _increment(user_id: int, at: datetime):
    """The one atomic statement that counts a failure (creating the row on the
    first one). A failure after a lockout ran out starts the count afresh."""
    insert = dialect_insert(db.engine.dialect.name)
    expired = and_(_table.c.locked_until.is_not(None), _table.c.locked_until <= at)
    return (
        insert(_table)
        .values(user_id=user_id, failures=1, lockouts=0, locked_until=None, last_failure_at=at)
        .on_conflict_do_update(
            index_elements=[_table.c.user_id],
            set_={
                "failures": case((expired, 1), else_=_table.c.failures + 1),
                "locked_until": case((expired, None), else_=_table.c.locked_until),
                "last_failure_at": at,
            },
        )
        .returning(_table.c.failures, _table.c.lockouts, _table.c.locked_until)
    )


def _clear(user_id: int):
    return (
        update(_table)
        .where(_table.c.user_id == user_id)
        .values(failures=0, lockouts=0, locked_until=None)
    )


def _read_locked_until(conn, user_id: int) -> datetime | None:
    return conn.execute(
        select(_table.c.locked_until).where(_table.c.user_id == user_id)
    ).scalar()


def _locked(until: datetime | None, at: datetime) -> bool:
    return until is not None and until > at


def _notify_locked(user: User, *, at: datetime, until: datetime, ip: str | None) -> None:
    """Mail the owner that the account was locked: when, from which IP, until when,
    and where to reset the password to get in at once."""
    from flask_security import url_for_security
    from flask_security.utils import send_mail

    reset_url = None
    if current_app.config["SECURITY_RECOVERABLE"]:
        base = current_app.config["BASE_URL"].rstrip("/")
        reset_url = base + url_for_security("forgot_password")
    send_mail(
        "Your Diary account was locked",
        user.email,
        "security/email/account_locked",
        user=user,
        locked_at=at,
        locked_until=until,
        ip=ip,
        reset_url=reset_url,
        threshold=int(current_app.config["LOCKOUT_THRESHOLD"]),
    )


def locked_now():
    """Return the SQL condition "this user is locked now", for queries over users."""
    return exists().where(AccountLockout.user_id == User.id, AccountLockout.locked_until > now())
