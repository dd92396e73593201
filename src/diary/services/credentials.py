"""Who is making a request: one policy for every credential.

Five credentials lead to a user, and each resolves here:

* the **session** (a server-side session naming a signed-in device row),
* **remember me** (a secret in a cookie naming a remembered device row, which
  starts a new session),
* a Flask-Security **auth token** (signed, 15 minutes),
* a Flask-Security **refresh token** (checked by the library's form, which then
  asks here about its user),
* a **personal access token** (``diary_pat_…``).

Each resolver first checks what belongs to its credential alone (signature,
expiry, revocation, the device row and its timeouts), then every credential
passes :func:`admit`, which applies the same rules in the same order: the account
is **active**, **confirmed** (where confirmation is on) and **not locked**. The
result is an :class:`Identity`, whose ``permissions`` come from
:func:`effective_permissions`: the one function that decides what an identity may
do, with the two-factor rule for the roles of ``MFA_REQUIRED_ROLES``. Pages, API,
Flask-Principal's identity and ``/api/v1/me`` all read that set.

How strong a credential is (:class:`~diary.models.types.Strength`): a session is
as strong as its sign-in (a second factor or a passkey makes it multi-factor);
setting up a second factor in a session raises it, since that needs a fresh
password check and a code from the new factor. A personal access token is as
strong as the session that made it, for good. An auth or refresh token is
multi-factor when its account has a second factor: every password sign-in of such
an account asks for it, and setting up the first one revokes every token made
before (:mod:`diary.services.revocation`).

Refusals of tokens are recorded in the audit log and counted per client IP
(``LIMIT_API_AUTH_FAILURES_PER_IP``); an address over that budget is refused
before its credential is even looked at. A locked account's good token is not a
failure: it is refused, recorded, and not counted.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_security.utils import parse_auth_token
from itsdangerous import SignatureExpired
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from diary.extensions import db
from diary.models import AccountLockout, ApiToken, User, UserSession
from diary.models.users import with_roles
from diary.models.types import Strength
from diary.services import lockout, mfa, ratelimits, sessions, tokens
from diary.services.audit import AuditTag, record_event
from diary.services.ratelimits import Limit


class Kind(enum.StrEnum):
    """The credentials a request can bring."""

    SESSION = "session"
    REMEMBER_ME = "remember-me"
    AUTH_TOKEN = "auth-token"
    REFRESH_TOKEN = "refresh-token"
    PERSONAL_ACCESS_TOKEN = "personal-access-token"


TOKEN_KINDS = frozenset({Kind.AUTH_TOKEN, Kind.REFRESH_TOKEN, Kind.PERSONAL_ACCESS_TOKEN})


class Reason(enum.StrEnum):
    """Why a credential was refused (for the audit log; callers answer alike)."""

    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    TWO_CREDENTIALS = "two_credentials"
    ENDED = "ended"
    DEACTIVATED = "deactivated"
    UNCONFIRMED = "unconfirmed"
    LOCKED = "locked"
    TOO_MANY_FAILURES = "too_many_failures"


class Refused(Exception):
    """A credential that does not let its bearer in.

    :ivar kind: which credential.
    :ivar reason: why (:class:`Reason`).
    :ivar retry_after: seconds until the client's failure budget refills, for
        ``TOO_MANY_FAILURES``.
    """

    def __init__(self, kind: Kind, reason: Reason, retry_after: int | None = None):
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Identity:
    """Who a request comes from, how, and what they may do."""

    user: User
    kind: Kind
    strength: Strength
    permissions: frozenset[str]
    # The signed-in device row (session and remember me).
    session: UserSession | None = None
    # The personal access token.
    token: ApiToken | None = None

    @property
    def id(self) -> int:
        """Return the user's id (what services compare with an entry's owner)."""
        return self.user.id

    @property
    def scopes(self) -> frozenset[str] | None:
        """Return the personal access token's scopes; None when not scoped."""
        return self.token.scope_set if self.token is not None else None

    def may(self, permission: str) -> bool:
        """Return whether this identity holds ``permission``."""
        return permission in self.permissions


# --- What an identity may do ---------------------------------------------------


def effective_permissions(user: User, strength: Strength) -> frozenset[str]:
    """Return the permissions ``user`` may use through a credential of ``strength``.

    The roles' permissions, less those that only the roles of ``MFA_REQUIRED_ROLES``
    grant, unless the credential is multi-factor and the account still has a second
    factor (:func:`diary.services.mfa.elevated_permissions`).
    """
    granted = frozenset(p for role in user.roles for p in role.get_permissions())
    if not _needs_more(user, strength):
        return granted
    return granted - mfa.elevated_permissions(user)


def withheld_roles(user: User, strength: Strength) -> frozenset[str]:
    """Return the required roles ``user`` may not act in through a credential of
    ``strength``."""
    if not _needs_more(user, strength):
        return frozenset()
    required = mfa.required_roles()
    return frozenset(role.name for role in user.roles if role.name in required)


def _needs_more(user: User, strength: Strength) -> bool:
    required = mfa.required_roles()
    if not required or not any(role.name in required for role in user.roles):
        return False
    return strength != Strength.MULTI_FACTOR or not mfa.has_second_factor(user)


# --- The rules every credential passes -------------------------------------------


def admit(
    user: User,
    kind: Kind,
    strength: Strength,
    *,
    locked: bool | None = None,
    session: UserSession | None = None,
    token: ApiToken | None = None,
) -> Identity:
    """Apply the account rules, in this order, and return the identity.

    1. the account is active (not deactivated);
    2. its email address is confirmed, where ``SECURITY_CONFIRMABLE`` is on;
    3. it is not locked after failed sign-ins.

    :param locked: whether the account is locked, when the caller has read it
        already (the session and token lookups read it in their one statement);
        None: read here.
    :raises Refused: ``DEACTIVATED``, ``UNCONFIRMED`` or ``LOCKED``.
    """
    if not user.active:
        raise Refused(kind, Reason.DEACTIVATED)
    if current_app.config.get("SECURITY_CONFIRMABLE") and user.confirmed_at is None:
        raise Refused(kind, Reason.UNCONFIRMED)
    if lockout.is_locked(user) if locked is None else locked:
        raise Refused(kind, Reason.LOCKED)
    return Identity(
        user=user,
        kind=kind,
        strength=strength,
        permissions=effective_permissions(user, strength),
        session=session,
        token=token,
    )


# --- Session and remember me -----------------------------------------------------

# One statement for a signed-in request: the user (by the session's
# fs_uniquifier), its roles, its device row and its lockout time. Built once.
_SESSION_LOOKUP = with_roles(
    select(User, UserSession, AccountLockout.locked_until)
    .join(UserSession, UserSession.user_id == User.id)
    .outerjoin(AccountLockout, AccountLockout.user_id == User.id)
    .where(
        User.fs_uniquifier == bindparam("uniquifier"),
        UserSession.id == bindparam("session_id"),
    )
)


@dataclass(frozen=True)
class SessionCheck:
    """A session that was let in; ``touched`` when its last use was written now
    (the caller then refreshes the session store's expiry too)."""

    identity: Identity
    touched: bool


def from_session(uniquifier: str, session_id: str, *, ip: str | None) -> SessionCheck:
    """Resolve a server-side session that names user ``uniquifier`` (its
    ``fs_uniquifier``) and device row ``session_id``.

    A session whose row is gone (signed out elsewhere, "sign out everywhere", a
    password change) or whose user's ``fs_uniquifier`` changed is ``ENDED``; one
    past its idle timeout or absolute lifetime is ``EXPIRED``, and its row is
    closed here (kept while "remember me" is good).

    :raises Refused: as above, or by :func:`admit`.
    """
    row = (
        db.session.execute(
            _SESSION_LOOKUP, {"uniquifier": str(uniquifier), "session_id": str(session_id)}
        )
        .unique()
        .one_or_none()
    )
    if row is None:
        raise Refused(Kind.SESSION, Reason.ENDED)
    user, device, locked_until = row
    if sessions.expiry_reason(device) is not None:
        sessions.end_session(device)
        db.session.commit()
        raise Refused(Kind.SESSION, Reason.EXPIRED)
    identity = admit(
        user,
        Kind.SESSION,
        Strength(device.strength),
        locked=lockout.locked_at(locked_until),
        session=device,
    )
    touched = sessions.touch(device, ip)
    if touched:
        db.session.commit()
    return SessionCheck(identity, touched)


def from_remember_me(
    cookie: str,
    *,
    new_session: Callable[[], str],
    ip: str | None,
    user_agent: str | None,
) -> Identity:
    """Resolve a remember-me cookie: once the remembered device and its user pass,
    call ``new_session`` (which gives the browser a new session and returns its
    store key), start that session on the device, record the sign-in in the audit
    log, and return the identity.

    :raises Refused: ``UNKNOWN`` for a cookie that names no remembered device, its
        secret wrong or its time up; or by :func:`admit`.
    """
    device = sessions.find_remembered(cookie)
    if device is None:
        raise Refused(Kind.REMEMBER_ME, Reason.UNKNOWN)
    user = db.session.get(User, device.user_id)
    identity = admit(user, Kind.REMEMBER_ME, Strength(device.strength), session=device)
    sessions.resume(device, new_session(), ip)
    record_event(
        AuditTag.LOGIN_SUCCESS,
        user=user,
        ip=ip,
        user_agent=user_agent,
        details={"via": ["remember-me"]},
        commit=False,
    )
    db.session.commit()
    return identity


def for_user(user: User, strength: Strength = Strength.MULTI_FACTOR) -> Identity:
    """Return the identity of ``user`` acting without a request (a command, a
    test): their permissions as a credential of ``strength`` would have them."""
    return Identity(
        user=user,
        kind=Kind.SESSION,
        strength=strength,
        permissions=effective_permissions(user, strength),
    )


def signed_in(user: User, device: UserSession) -> Identity:
    """Return the identity of a sign-in that just happened on ``device`` (the
    sign-in itself checked the account: Flask-Security asks ``is_active``,
    confirmation and ``is_locked`` before it signs anybody in)."""
    strength = Strength(device.strength)
    return Identity(
        user=user,
        kind=Kind.SESSION,
        strength=strength,
        permissions=effective_permissions(user, strength),
        session=device,
    )


# --- Tokens ----------------------------------------------------------------------


def check_failure_budget(ip: str | None) -> None:
    """Refuse a client whose refused credentials used up its budget.

    :raises Refused: ``TOO_MANY_FAILURES``, with ``retry_after``.
    """
    try:
        ratelimits.check(Limit.API_AUTH_FAILURES_PER_IP, ip or "unknown")
    except ratelimits.Exceeded as exceeded:
        raise Refused(
            Kind.PERSONAL_ACCESS_TOKEN, Reason.TOO_MANY_FAILURES, exceeded.retry_after
        ) from None


def refuse(
    kind: Kind,
    reason: Reason,
    *,
    user: User | int | None = None,
    token: ApiToken | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Refused:
    """Record a refused token in the audit log (committed at once: the refused
    request commits nothing), count it against the client's failure budget unless
    the account is merely locked, and return the :class:`Refused` to raise."""
    if reason != Reason.LOCKED:
        try:
            ratelimits.hit(Limit.API_AUTH_FAILURES_PER_IP, ip or "unknown")
        except ratelimits.Exceeded:
            pass  # used up meanwhile: the next request is refused up front
    details = {"reason": str(reason), "credential": str(kind)}
    if token is not None:
        details.update(tokens.describe(token))
        user = token.user_id if user is None else user
    record_event(
        AuditTag.TOKEN_AUTH_FAILURE, user=user, ip=ip, user_agent=user_agent, details=details
    )
    return Refused(kind, reason)


def _admit_token(
    user: User,
    kind: Kind,
    strength: Strength,
    *,
    locked: bool | None = None,
    token: ApiToken | None = None,
    ip: str | None,
    user_agent: str | None,
) -> Identity:
    """:func:`admit` a token's user; a refusal is recorded like any refused token."""
    try:
        return admit(user, kind, strength, locked=locked, token=token)
    except Refused as refused:
        raise refuse(
            kind, refused.reason, user=user, token=token, ip=ip, user_agent=user_agent
        ) from None


def token_strength(user: User) -> Strength:
    """Return the strength of an auth or refresh token of ``user`` (see the module
    doc)."""
    return Strength.MULTI_FACTOR if mfa.has_second_factor(user) else Strength.PASSWORD


# One statement for an auth token's user (by the token's fs_uniquifier), its roles,
# its passkeys (whether one is a second factor decides the token's strength:
# token_strength()) and its lockout time. Built once.
_AUTH_TOKEN_LOOKUP = with_roles(
    select(User, AccountLockout.locked_until)
    .outerjoin(AccountLockout, AccountLockout.user_id == User.id)
    .where(User.fs_uniquifier == bindparam("uniquifier"))
    .options(joinedload(User.webauthn))
)


def from_auth_token(value: str, *, ip: str | None, user_agent: str | None) -> Identity:
    """Resolve a Flask-Security auth token as the library's own loader would
    (signature, ``SECURITY_TOKEN_MAX_AGE``, its user by ``fs_uniquifier``,
    ``verify_auth_token``), then :func:`admit` its user.

    :raises Refused: a bad token (recorded, counted), or by :func:`admit`
        (recorded; counted unless locked).
    """
    try:
        data = parse_auth_token(value)
        uniquifier = str(data["uid"])
    except SignatureExpired:
        raise refuse(Kind.AUTH_TOKEN, Reason.EXPIRED, ip=ip, user_agent=user_agent) from None
    except Exception:  # BadSignature, ValueError, KeyError, TypeError …
        raise refuse(Kind.AUTH_TOKEN, Reason.MALFORMED, ip=ip, user_agent=user_agent) from None
    row = (
        db.session.execute(_AUTH_TOKEN_LOOKUP, {"uniquifier": uniquifier})
        .unique()
        .one_or_none()
    )
    user, locked_until = row if row is not None else (None, None)
    if user is None or not user.verify_auth_token(data):
        # Signed by this site, but its user's fs_uniquifier changed since (sign out
        # everywhere, a password change …) or the account is gone.
        raise refuse(Kind.AUTH_TOKEN, Reason.REVOKED, user=user, ip=ip, user_agent=user_agent)
    return _admit_token(
        user,
        Kind.AUTH_TOKEN,
        token_strength(user),
        locked=lockout.locked_at(locked_until),
        ip=ip,
        user_agent=user_agent,
    )


def from_refresh_token(user: User, *, ip: str | None, user_agent: str | None) -> Identity:
    """Admit the user of a refresh token the library has verified (signature,
    family, generation, age, revocation).

    :raises Refused: by :func:`admit` (recorded; counted unless locked).
    """
    return _admit_token(
        user, Kind.REFRESH_TOKEN, token_strength(user), ip=ip, user_agent=user_agent
    )


def from_personal_access_token(
    secret: str | None, *, ip: str | None, user_agent: str | None
) -> Identity:
    """Resolve a personal access token: it must exist, be unrevoked and unexpired
    (:func:`diary.services.tokens.find_token`, one statement that also reads its
    user, roles and lockout); then its user is admitted with the strength the
    token was made with, and the token's last use is recorded.

    :raises Refused: recorded in the audit log; counted unless the account is
        merely locked.
    """
    try:
        found = tokens.find_token(secret)
    except tokens.TokenRefused as refused:
        raise refuse(
            Kind.PERSONAL_ACCESS_TOKEN,
            Reason(refused.reason),
            token=refused.token,
            ip=ip,
            user_agent=user_agent,
        ) from None
    token = found.token
    identity = _admit_token(
        token.user,
        Kind.PERSONAL_ACCESS_TOKEN,
        Strength(token.strength),
        locked=lockout.locked_at(found.locked_until),
        token=token,
        ip=ip,
        user_agent=user_agent,
    )
    tokens.record_use(token, ip=ip, user_agent=user_agent)
    return identity
