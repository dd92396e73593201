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
from datetime import timedelta

from flask import current_app
from flask_security.utils import naive_utcnow
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from diary.extensions import db, security
from diary.models import ApiToken, AuditEvent, User
from diary.models.types import utcnow
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
    """A presented token does not authenticate anybody. ``reason`` is for the audit
    log only; callers answer every reason with the same generic message."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class AccountLocked(TokenError):
    """The token is good but its account is temporarily locked: refused, not revoked,
    so whoever triggered the lockout cannot wipe the owner's tokens with it."""


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


def create_token(
    user: User,
    name: str | None,
    scopes: list[str] | set[str] | tuple[str, ...],
    lifetime: timedelta | None,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> NewToken:
    """Create a token for ``user`` and return it with its secret.

    :param lifetime: how long it lives; None for a token that never expires.
    :raises TokenInvalid: empty or too long name, no or unknown scopes, a lifetime
        that is not positive, or the user already holds ``API_TOKENS_PER_USER_MAX``.
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
    if lifetime is not None and lifetime <= timedelta(0):
        raise TokenInvalid("A token's lifetime must be positive.")
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
    )
    db.session.add(token)
    db.session.flush()
    record_event(
        AuditTag.TOKEN_CREATED,
        user=user,
        ip=ip,
        user_agent=user_agent,
        details=_describe(token),
        commit=False,
    )
    db.session.commit()
    return NewToken(token, secret)


def authenticate(
    secret: str | None, *, ip: str | None = None, user_agent: str | None = None
) -> ApiToken:
    """Return the token ``secret`` stands for, its last use recorded.

    Every refusal is recorded in the audit log (committed at once: the request
    that caused it will not commit) with its reason, never with the secret.

    :raises TokenRefused: malformed, unknown, revoked or expired token, or its user
        is deactivated.
    :raises AccountLocked: its user is temporarily locked (``user.is_locked()``).
    """
    now = utcnow()
    if not secret or not TOKEN_RE.match(secret):
        _refuse("malformed", None, None, ip, user_agent)
    digest = hash_token(secret)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        _refuse("unknown", None, None, ip, user_agent)
    if token.revoked_at is not None:
        _refuse("revoked", token, token.user_id, ip, user_agent)
    if token.expires_at is not None and token.expires_at <= now:
        _refuse("expired", token, token.user_id, ip, user_agent)
    user = token.user
    if not user.active:
        _refuse("deactivated", token, user.id, ip, user_agent)
    if user.is_locked():
        _record_refusal("locked", token, user.id, ip, user_agent)
        raise AccountLocked(token.id)

    first_use = token.last_used_at is None
    if first_use or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        token.last_used_ip = ip
        if first_use:
            record_event(
                AuditTag.TOKEN_FIRST_USED,
                user=user,
                ip=ip,
                user_agent=user_agent,
                details=_describe(token),
                commit=False,
            )
        db.session.commit()
    return token


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
        details=_describe(token),
        commit=False,
    )
    db.session.commit()
    return token


def revoke_all_tokens(
    user: User,
    *,
    reason: str = "sign_out_everywhere",
    actor: User | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    commit: bool = True,
) -> int:
    """Revoke every unrevoked personal access token of ``user``, and the refresh
    tokens of the user's Flask-Security auth tokens; return how many personal
    access tokens were revoked.

    Call it from "sign out everywhere" and wherever an account is deactivated (the
    deactivation hook below does the latter by itself). One audit event records
    how many tokens went, and why. (Auth tokens themselves are signed, not stored,
    and live 15 minutes; "sign out everywhere" ends them early by changing the
    user's ``fs_uniquifier``, which they are bound to.)

    :param reason: why, for the audit log ("sign_out_everywhere", "deactivated" …).
    :param commit: commit now (default); False leaves it to the caller's transaction.
    """
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    count = result.rowcount or 0
    for tracker in user.refresh_trackers:
        if tracker.revoked_at is None:
            security.datastore.revoke_refresh_tracker(tracker)
    if count:
        record_event(
            AuditTag.TOKEN_REVOKED,
            user=user,
            actor=actor,
            ip=ip,
            user_agent=user_agent,
            details={"all": True, "count": count, "reason": reason},
            commit=False,
        )
    if commit:
        db.session.commit()
    return count


def watch_deactivations() -> None:
    """Revoke a user's tokens (and auth-token refresh tokens) whenever the account
    is deactivated, however that happens (admin console, ``flask users deactivate``, the datastore): every flush
    that turns ``User.active`` from true to false revokes that user's tokens in the
    same transaction. Idempotent; called once per app by the security wiring."""
    if not event.contains(Session, "before_flush", _revoke_on_deactivation):
        event.listen(Session, "before_flush", _revoke_on_deactivation)


def _revoke_on_deactivation(session: Session, _context, _instances) -> None:
    for obj in list(session.dirty):
        if not isinstance(obj, User):
            continue
        history = db.inspect(obj).attrs.active.history
        if history.deleted and history.deleted[0] and not obj.active:
            now = utcnow()
            tokens = session.scalars(
                select(ApiToken).where(
                    ApiToken.user_id == obj.id, ApiToken.revoked_at.is_(None)
                )
            ).all()
            for token in tokens:
                token.revoked_at = now
            for tracker in obj.refresh_trackers:
                if tracker.revoked_at is None:
                    tracker.revoked_at = naive_utcnow()  # the library's naive UTC
            if tokens:
                # Added to the flush under way: committed with the deactivation.
                session.add(
                    AuditEvent(
                        tag=str(AuditTag.TOKEN_REVOKED),
                        user_id=obj.id,
                        details={"all": True, "count": len(tokens), "reason": "deactivated"},
                    )
                )


def _refuse(
    reason: str,
    token: ApiToken | None,
    user_id: int | None,
    ip: str | None,
    user_agent: str | None,
):
    _record_refusal(reason, token, user_id, ip, user_agent)
    raise TokenRefused(reason)


def _record_refusal(
    reason: str,
    token: ApiToken | None,
    user_id: int | None,
    ip: str | None,
    user_agent: str | None,
) -> None:
    # Committed at once: the refused request itself commits nothing.
    details = {"reason": reason}
    if token is not None:
        details.update(_describe(token))
    record_event(
        AuditTag.TOKEN_AUTH_FAILURE,
        user=user_id,
        ip=ip,
        user_agent=user_agent,
        details=details,
    )


def _describe(token: ApiToken) -> dict:
    # What the audit log keeps about a token: never the secret or its digest.
    return {"token_id": token.id, "token_name": token.name, "scopes": token.scopes}

