"""Personal access tokens: creating, checking and revoking them, each rule next to
the audit event it records.

A token is ``diary_pat_`` followed by 43 characters of URL-safe base64: 32 bytes
(256 bits) from :func:`secrets.token_urlsafe`. Only the SHA-256 digest of the whole
string is stored. A slow password hash (argon2) would add nothing here: it exists
to make guessing a *low-entropy* password from its hash expensive, and nobody can
guess 256 random bits however cheap each guess is. A fast, unsalted digest also
lets a token be found by an indexed equality lookup instead of by trying every
stored hash. Timing cannot leak the token either: what the lookup compares is the
digest, and learning a digest's first bytes does not help anyone find a token that
produces it (the digest is compared once more with :func:`hmac.compare_digest`
after the lookup all the same, so no code path compares secrets with ``==``).

The token string is never logged, never put in an audit event and never stored;
the ``diary_pat_`` prefix lets secret scanners and people recognise a leaked one.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager

from diary.extensions import datastore, db
from diary.models import AccountLockout, ApiToken, User
from diary.models.users import with_roles
from diary.models.types import Strength, utcnow
from diary.services.audit import AuditTag, record_event

PREFIX = "diary_pat_"
# 32 random bytes in URL-safe base64 without padding are 43 characters.
TOKEN_RE = re.compile(r"^diary_pat_[A-Za-z0-9_-]{43}$")
NAME_MAX_LENGTH = 100
# Last use is written at most once a minute per token, so a busy script does not
# turn every API read into a database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Scope(enum.StrEnum):
    """What a personal access token may do. Sessions and Flask-Security auth tokens
    are not scoped: they act with all of the user's permissions."""

    ENTRIES_READ = "entries:read"
    ENTRIES_WRITE = "entries:write"


SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.ENTRIES_READ: "Read your entries",
    Scope.ENTRIES_WRITE: "Write, edit and delete your entries",
}


class TokenError(Exception):
    """Base class of the errors raised here."""


class TokenInvalid(TokenError):
    """A token request breaks a rule; ``str(error)`` says which, for the user."""


class TokenRefused(TokenError):
    """A presented token is malformed, unknown, revoked or expired. ``reason`` is
    for the audit log only; callers answer every reason with the same generic
    message. ``token`` is the token found, if any."""

    def __init__(self, reason: str, token: ApiToken | None = None):
        super().__init__(reason)
        self.reason = reason
        self.token = token


class TokenNotFound(TokenError):
    """No unrevoked token with that id belongs to that user."""


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``secret`` is the token string, shown to its owner once
    and then gone."""

    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    """Return the hex SHA-256 digest under which ``secret`` is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def default_lifetime() -> timedelta:
    """Return how long a new token lives by default (``API_TOKEN_DEFAULT_LIFETIME_DAYS``)."""
    return timedelta(days=int(current_app.config["API_TOKEN_DEFAULT_LIFETIME_DAYS"]))


def max_lifetime() -> timedelta:
    """Return the longest lifetime a new token may have (``API_TOKEN_MAX_LIFETIME_DAYS``)."""
    return timedelta(days=int(current_app.config["API_TOKEN_MAX_LIFETIME_DAYS"]))


def never_expires_allowed() -> bool:
    """Return whether an operator allows tokens that never expire."""
    return bool(current_app.config["API_TOKEN_NEVER_EXPIRES_ALLOWED"])


def create_token(
    user: User,
    name: str | None,
    scopes: list[str] | set[str] | tuple[str, ...],
    lifetime: timedelta | None,
    *,
    strength: Strength,
    ip: str | None = None,
    user_agent: str | None = None,
) -> NewToken:
    """Create a token for ``user`` and return it with its secret.

    :param lifetime: how long it lives; None for a token that never expires, which
        only an operator can allow (``API_TOKEN_NEVER_EXPIRES_ALLOWED``).
    :param strength: how strongly the session that makes it was signed in; the
        token keeps it for good (powers that need two-factor follow it).
    :raises TokenInvalid: empty or too long name, no or unknown scopes, a lifetime
        that is not positive or longer than ``API_TOKEN_MAX_LIFETIME_DAYS``, "never"
        where not allowed, or the user already holds ``API_TOKENS_PER_USER_MAX``.
    """
    name = (name or "").strip()
    if not name:
        raise TokenInvalid("Give the token a name, so you can tell it apart later.")
    if len(name) > NAME_MAX_LENGTH:
        raise TokenInvalid(f"A token name can be at most {NAME_MAX_LENGTH} characters.")
    try:
        chosen = sorted({Scope(s) for s in scopes})
    except ValueError:
        raise TokenInvalid("Unknown scope.") from None
    if not chosen:
        raise TokenInvalid("Choose at least one scope.")
    if lifetime is None and not never_expires_allowed():
        raise TokenInvalid(
            f"Choose an expiry: tokens live at most {max_lifetime().days} days here."
        )
    if lifetime is not None and lifetime <= timedelta(0):
        raise TokenInvalid("A token's lifetime must be positive.")
    if lifetime is not None and lifetime > max_lifetime():
        raise TokenInvalid(f"A token can live at most {max_lifetime().days} days.")
    limit = int(current_app.config["API_TOKENS_PER_USER_MAX"])
    if len(list_tokens(user)) >= limit:
        raise TokenInvalid(f"You can hold at most {limit} tokens; revoke one first.")

    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        scopes=" ".join(chosen),
        created_at=now,
        expires_at=now + lifetime if lifetime is not None else None,
        strength=str(Strength(strength)),
    )
    db.session.add(token)
    db.session.flush()
    record_event(
        AuditTag.TOKEN_CREATED,
        user=user,
        ip=ip,
        user_agent=user_agent,
        details=describe(token),
        commit=False,
    )
    db.session.commit()
    return NewToken(token, secret)


# One statement for a request with a token: the token by its digest, its user (so
# ``token.user`` needs no query) with the user's roles, and the user's lockout
# time, for the account checks that follow (diary.services.credentials.admit).
# Built once.
_LOOKUP = with_roles(
    select(ApiToken, AccountLockout.locked_until)
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(AccountLockout, AccountLockout.user_id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest")),
    path=contains_eager(ApiToken.user),
)


@dataclass(frozen=True)
class FoundToken:
    """A token that :func:`find_token` let through, and when its user's lockout
    ends (None: no lockout row or no end), read in the same statement."""

    token: ApiToken
    locked_until: datetime | None


def find_token(secret: str | None) -> FoundToken:
    """Return the token ``secret`` stands for, if it is well formed, known,
    unrevoked and unexpired, with its user (and roles) loaded and the user's
    lockout time, all in one statement. Who may use it (its account's state) is
    decided by :func:`diary.services.credentials.from_personal_access_token`, which
    calls this.

    :raises TokenRefused: with the reason, and the token when one was found.
    """
    if not secret or not TOKEN_RE.match(secret):
        raise TokenRefused("malformed")
    digest = hash_token(secret)
    row = db.session.execute(_LOOKUP, {"digest": digest}).unique().one_or_none()
    token, locked_until = row if row is not None else (None, None)
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise TokenRefused("unknown")
    if token.revoked_at is not None:
        raise TokenRefused("revoked", token)
    if token.expires_at is not None and token.expires_at <= utcnow():
        raise TokenRefused("expired", token)
    return FoundToken(token, locked_until)


def record_use(
    token: ApiToken, *, ip: str | None = None, user_agent: str | None = None
) -> None:
    """Record that ``token`` was used now (at most once a minute), and its first use
    in the audit log."""
    now = utcnow()
    first_use = token.last_used_at is None
    if not first_use and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    token.last_used_at = now
    token.last_used_ip = ip
    if first_use:
        record_event(
            AuditTag.TOKEN_FIRST_USED,
            user=token.user_id,
            ip=ip,
            user_agent=user_agent,
            details=describe(token),
            commit=False,
        )
    db.session.commit()


def list_tokens(user: User) -> list[ApiToken]:
    """Return ``user``'s unrevoked tokens (expired ones included), newest first."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(query))


def revoke_token(
    user: User, token_id: int, *, ip: str | None = None, user_agent: str | None = None
) -> ApiToken:
    """Revoke ``user``'s token ``token_id`` and return it.

    :raises TokenNotFound: no unrevoked token of ``user`` has that id (somebody
        else's token is "not found" too: ids are not a way to probe other accounts).
    """
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.id == token_id,
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
        )
    )
    if token is None:
        raise TokenNotFound(token_id)
    token.revoked_at = utcnow()
    record_event(
        AuditTag.TOKEN_REVOKED,
        user=user,
        ip=ip,
        user_agent=user_agent,
        details=describe(token),
        commit=False,
    )
    db.session.commit()
    return token


@dataclass(frozen=True)
class Revoked:
    """What :func:`revoke_all_tokens` revoked: the names of the personal access
    tokens, and how many refresh tokens (apps signed in with a password)."""

    names: list[str]
    refresh_tokens: int


def revoke_all_tokens(
    user: User,
    *,
    reason: str,
    actor: User | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    commit: bool = True,
) -> Revoked:
    """Revoke every unrevoked personal access token of ``user`` and the refresh
    tokens of the user's Flask-Security auth tokens; return what went.

    One audit event records how many personal access tokens went, and why. (Auth
    tokens themselves are signed, not stored, and live 15 minutes; they end with
    the change of the user's ``fs_uniquifier`` that every caller makes.)

    :param reason: why, for the audit log (``sign_out_everywhere``,
        ``password_changed`` … see :class:`diary.services.revocation.Trigger`).
    :param commit: commit now (default); False leaves it to the caller's transaction.
    """
    now = utcnow()
    revoked = list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id)  # oldest first: the order the mail lists them in
        )
    )
    for token in revoked:
        token.revoked_at = now
    refresh = 0
    for tracker in user.refresh_trackers:
        if tracker.revoked_at is None:
            datastore().revoke_refresh_tracker(tracker)
            refresh += 1
    if revoked:
        record_event(
            AuditTag.TOKEN_REVOKED,
            user=user,
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            details={"all": True, "count": len(revoked), "reason": reason},
            commit=False,
        )
    if commit:
        db.session.commit()
    return Revoked([token.name for token in revoked], refresh)


def describe(token: ApiToken) -> dict:
    """Return what the audit log keeps about ``token``: never the secret or its
    digest."""
    return {"token_id": token.id, "token_name": token.name, "scopes": token.scopes}

