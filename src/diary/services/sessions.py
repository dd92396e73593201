"""Signed-in sessions ("your devices"): their records, their lifetime, and ending
them.

Every sign-in on a browser gets a :class:`~diary.models.UserSession` row; the
browser's server-side session names it. Each request is checked against the row
(:mod:`diary.services.credentials`), so the rules here are the server's, never a
cookie's:

* A session ends after ``SESSION_IDLE_TIMEOUT`` seconds without a request, and
  ``SESSION_ABSOLUTE_LIFETIME`` seconds after it began, however active (OWASP ASVS
  3.3). The last-use time is written at most once a minute (``SEEN_RESOLUTION``),
  so the idle timeout errs on the safe side by up to a minute, never the other way.
* "Remember me" is part of the row: the digest of a random secret kept in a
  cookie, valid for ``REMEMBER_COOKIE_DURATION`` seconds from the sign-in. When the
  session has ended, the secret starts a new one on the same row. Deleting the row
  ends both, so a remembered device can be listed and signed out like any other.
* Ending sessions deletes their rows and their records in the session store (the
  store keys are digests of the session ids, kept on the rows).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select

from diary.extensions import db
from diary.models import User, UserSession
from diary.models.types import Strength, utcnow
from diary.services.audit import AuditTag, record_event

# How often (at most) a session's last use is written back.
SEEN_RESOLUTION = timedelta(minutes=1)
# Ways of signing in that prove more than a password: a second factor, or a
# passkey, which verifies its user (PIN, biometrics) on the device that holds it.
MULTI_FACTOR_METHODS = frozenset(
    {"authenticator", "email", "sms", "webauthn", "mf_recovery", "second_factor"}
)


def now() -> datetime:
    """Return the current UTC time. The one clock of this module: tests replace it."""
    return utcnow()


class Expiry(enum.StrEnum):
    """Why a session ended on its own."""

    IDLE = "idle"
    ABSOLUTE = "absolute"


def idle_timeout() -> timedelta:
    """Return how long a session may go unused (``SESSION_IDLE_TIMEOUT``)."""
    return timedelta(seconds=float(current_app.config["SESSION_IDLE_TIMEOUT"]))


def absolute_lifetime() -> timedelta:
    """Return how long a session may last at most (``SESSION_ABSOLUTE_LIFETIME``)."""
    return timedelta(seconds=float(current_app.config["SESSION_ABSOLUTE_LIFETIME"]))


def remember_duration() -> timedelta:
    """Return how long "remember me" lasts (``REMEMBER_COOKIE_DURATION``)."""
    return current_app.config["REMEMBER_COOKIE_DURATION"]


def expiry_reason(row: UserSession, at: datetime | None = None) -> Expiry | None:
    """Return why the session of ``row`` has ended by ``at`` (default: now), or
    None while it is alive."""
    at = now() if at is None else at
    if at - row.session_started_at >= absolute_lifetime():
        return Expiry.ABSOLUTE
    if at - row.last_seen_at >= idle_timeout():
        return Expiry.IDLE
    return None


def is_remembered(row: UserSession, at: datetime | None = None) -> bool:
    """Return whether ``row``'s "remember me" is still good at ``at``."""
    at = now() if at is None else at
    return row.remember_digest is not None and (
        row.remember_until is not None and row.remember_until > at
    )


def strength_of(methods: list[str] | tuple[str, ...] | None) -> Strength:
    """Return how strong a sign-in by ``methods`` (Flask-Security's ``authn_via``,
    e.g. ``["password", "authenticator"]``) is."""
    return (
        Strength.MULTI_FACTOR
        if MULTI_FACTOR_METHODS.intersection(methods or ())
        else Strength.PASSWORD
    )


def digest(secret: str) -> str:
    """Return the hex SHA-256 a remember-me secret is kept as."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    """A new sign-in: its row, and the remember-me cookie value if one was asked
    for (shown to the browser once, kept only as a digest)."""

    row: UserSession
    remember_cookie: str | None = None


def start(
    user: User,
    *,
    methods: list[str] | tuple[str, ...] | None,
    store_key: str,
    remember: bool = False,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Started:
    """Record a sign-in of ``user`` on a browser; return its row (added to the
    database session, committed with the sign-in) and remember-me cookie.

    Old rows of ``user`` that are over (no live session, nothing remembered) are
    deleted on the way, so the table keeps only what "your devices" lists.
    """
    at = now()
    _delete_ended(user.id, at)
    row = UserSession(
        id=secrets.token_urlsafe(16),
        user_id=user.id,
        signed_in_at=at,
        session_started_at=at,
        last_seen_at=at,
        ip=ip,
        last_ip=ip,
        user_agent=(user_agent or None) and user_agent[:512],
        strength=str(strength_of(methods)),
        methods=" ".join(methods or ())[:100],
        store_key=store_key,
    )
    cookie = None
    if remember:
        secret = secrets.token_urlsafe(32)
        row.remember_digest = digest(secret)
        row.remember_until = at + remember_duration()
        cookie = f"{row.id}.{secret}"
    db.session.add(row)
    return Started(row, cookie)


def resume(row: UserSession, store_key: str, ip: str | None) -> None:
    """Start a new session on remembered ``row`` (its store key ``store_key``)."""
    at = now()
    row.session_started_at = at
    row.last_seen_at = at
    row.last_ip = ip
    row.store_key = store_key


def find_remembered(cookie: str) -> UserSession | None:
    """Return the row a remember-me cookie value names, if its secret matches and
    it is still good; else None."""
    row_id, _, secret = (cookie or "").partition(".")
    if not row_id or not secret or len(row_id) > 32:
        return None
    row = db.session.get(UserSession, row_id)
    if row is None or row.remember_digest is None:
        return None
    if not hmac.compare_digest(row.remember_digest, digest(secret)):
        return None
    return row if is_remembered(row) else None


def touch(row: UserSession, ip: str | None, at: datetime | None = None) -> bool:
    """Record a request on ``row``'s session if its last use is a minute old or
    more; return whether it was written (the caller then refreshes the store's
    expiry too)."""
    at = now() if at is None else at
    if at - row.last_seen_at < SEEN_RESOLUTION:
        return False
    row.last_seen_at = at
    row.last_ip = ip
    return True


def raise_strength(row: UserSession) -> None:
    """Mark ``row``'s session multi-factor: its user has just set up a second
    factor in it, which needs a fresh password check and a code from that factor."""
    row.strength = str(Strength.MULTI_FACTOR)


def end_session(row: UserSession) -> None:
    """Note that ``row``'s session ended (timeout, sign-out); keep the row while
    "remember me" is good, else delete it."""
    if is_remembered(row):
        row.store_key = None
    else:
        db.session.delete(row)


@dataclass(frozen=True)
class DeviceInfo:
    """One row of "your devices"."""

    id: str
    user_agent: str | None
    ip: str | None
    signed_in_at: datetime
    last_seen_at: datetime
    signed_in: bool  # a live session (else only remembered)
    remembered_until: datetime | None
    methods: str
    current: bool


def list_devices(user: User, current_id: str | None = None) -> list[DeviceInfo]:
    """Return ``user``'s signed-in and remembered browsers, latest use first."""
    at = now()
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id)
    )
    devices = []
    for row in rows:
        live = row.store_key is not None and expiry_reason(row, at) is None
        remembered = is_remembered(row, at)
        if not (live or remembered or row.id == current_id):
            continue
        devices.append(
            DeviceInfo(
                id=row.id,
                user_agent=row.user_agent,
                ip=row.last_ip or row.ip,
                signed_in_at=row.signed_in_at,
                last_seen_at=row.last_seen_at,
                signed_in=live or row.id == current_id,
                remembered_until=row.remember_until if remembered else None,
                methods=row.methods,
                current=row.id == current_id,
            )
        )
    return devices


class DeviceNotFound(LookupError):
    """No device of that id belongs to the user."""


@dataclass
class Ended:
    """What ending a user's credentials ended, for the audit log and the mail."""

    sessions: int = 0
    remembered: int = 0
    tokens: list[str] = field(default_factory=list)
    refresh_tokens: int = 0
    store_keys: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        """Return whether anything was ended."""
        return bool(self.sessions or self.remembered or self.tokens or self.refresh_tokens)

    def details(self) -> dict:
        """Return the counts for an audit event (token names, never secrets)."""
        return {
            "sessions": self.sessions,
            "remembered": self.remembered,
            "tokens": len(self.tokens),
            "refresh_tokens": self.refresh_tokens,
        }


def end_devices(user: User, *, keep: str | None = None, only: str | None = None) -> Ended:
    """Delete ``user``'s session rows (all, all but ``keep``, or just ``only``) and
    return what went; the caller commits and then calls :func:`forget_stored`.

    :raises DeviceNotFound: ``only`` is not one of ``user``'s rows.
    """
    query = select(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        query = query.where(UserSession.id != keep)
    if only is not None:
        query = query.where(UserSession.id == only)
    rows = list(db.session.scalars(query))
    if only is not None and not rows:
        raise DeviceNotFound(only)
    return delete_rows(db.session, rows)


def delete_rows(session, rows) -> Ended:
    """Delete ``rows`` in ``session`` (the request's, or one being flushed) and
    return what they held: live sessions, remembered devices, store keys."""
    at = now()
    ended = Ended()
    for row in rows:
        if row.store_key is not None and expiry_reason(row, at) is None:
            ended.sessions += 1
        elif is_remembered(row, at):
            ended.remembered += 1
        if row.store_key:
            ended.store_keys.append(row.store_key)
        session.delete(row)
    return ended


def forget_stored(ended: Ended) -> None:
    """Delete the session-store records of the sessions in ``ended``: the rows
    decide, the records are only data, so inside a request this happens once the
    request is over (see :mod:`diary.security.session_store`)."""
    forget = getattr(current_app.session_interface, "forget", None)
    if forget is not None and ended.store_keys:
        forget(ended.store_keys)


def _delete_ended(user_id: int, at: datetime) -> None:
    """Delete ``user_id``'s rows whose session and remember-me are both over."""
    db.session.execute(
        delete(UserSession)
        .where(
            UserSession.user_id == user_id,
            or_(UserSession.remember_until.is_(None), UserSession.remember_until <= at),
            or_(
                UserSession.store_key.is_(None),
                UserSession.last_seen_at <= at - idle_timeout(),
                UserSession.session_started_at <= at - absolute_lifetime(),
            ),
        )
        .execution_options(synchronize_session=False)
    )




def sign_out_device(
    user: User, device_id: str, *, ip: str | None = None, user_agent: str | None = None
) -> Ended:
    """Sign ``user``'s browser ``device_id`` out (its session and "remember me"),
    record it, and return what was ended.

    :raises DeviceNotFound: no such device of ``user`` (another user's devices are
        "not found" too).
    """
    row = db.session.get(UserSession, device_id)
    browser = row.user_agent if row is not None and row.user_id == user.id else None
    ended = end_devices(user, only=device_id)
    details = {"device": device_id, "browser": (browser or "")[:120]}
    return _recorded(ended, AuditTag.DEVICE_SIGNED_OUT, user, details, ip, user_agent)


def sign_out_other_devices(
    user: User, current_id: str, *, ip: str | None = None, user_agent: str | None = None
) -> Ended:
    """Sign ``user`` out of every browser but ``current_id``; record it and return
    what was ended. Tokens are left alone: "sign out everywhere" ends those."""
    ended = end_devices(user, keep=current_id)
    details = {"trigger": "sign_out_other_devices"}
    return _recorded(ended, AuditTag.SESSIONS_ENDED, user, details, ip, user_agent)


def _recorded(ended: Ended, tag: AuditTag, user: User, details: dict, ip, user_agent) -> Ended:
    """Record what a sign-out ended, commit it, forget the sessions' records."""
    record_event(
        tag,
        user=user,
        ip=ip,
        user_agent=user_agent,
        details={**details, **ended.details()},
        commit=False,
    )
    db.session.commit()
    forget_stored(ended)
    return ended
