"""Who is calling the API, three ways in, and the per-token and per-user rate limits.

1. ``Authorization: Bearer diary_pat_…`` — a personal access token
   (:mod:`diary.services.tokens`), limited to its scopes.
2. ``Authentication-Token: …`` — a Flask-Security auth token from ``POST /login``
   with ``include_auth_token`` (15 minutes; the refresh token renews it).
3. The browser's session cookie, as on the pages.

A request that carries a token header is judged by that token alone: a bad token
is refused even if a session cookie came along, and a session is never used to
rescue it. A request with both token headers is refused.

Token requests need no CSRF token: a browser never adds these headers by itself,
so another site cannot make one ride on a visitor's credentials. The session cookie is exactly what a browser does add by itself, so on unsafe methods
a cookie-authenticated request must carry the CSRF token in the ``X-CSRFToken``
header. The API blueprints are exempt from Flask-WTF's app-wide check (which would
demand a CSRF token from token clients too) and call ``csrf.protect()`` here,
once they know the session is what authenticates the request.

Refused credentials are counted per client IP (``LIMIT_API_AUTH_FAILURES_PER_IP``):
once an address has used up its budget, every request from it that carries a
credential gets 429 with ``Retry-After`` before the credential is looked at, and
writes no audit event. Tokens are far too long to guess; the limit keeps a
client that keeps sending bad ones from filling the audit log. A locked account's
valid token is not a refused credential and does not count.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import current_app, g, request
from flask_principal import Identity, identity_changed
from flask_security import current_user
from flask_security.utils import get_request_attr, parse_auth_token
from werkzeug.exceptions import Forbidden

from diary.api.errors import ApiProblem
from diary.extensions import csrf, limiter, security
from diary.models import ApiToken, User
from diary.security.client import client_info
from diary.services import ratelimits, tokens
from diary.services.audit import AuditTag, record_event
from diary.services.ratelimits import Limit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SESSION = "session"
AUTH_TOKEN = "auth-token"
PERSONAL_ACCESS_TOKEN = "personal-access-token"


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of this request."""

    user: User
    method: str
    # The personal access token used, if that is how the caller came in.
    token: ApiToken | None = None

    @property
    def scopes(self) -> frozenset[str] | None:
        """The token's scopes, or None when not limited by scopes."""
        return self.token.scope_set if self.token is not None else None


def current_caller() -> Caller:
    """Return this request's caller (set by :func:`authenticated`)."""
    return g.api_caller


def authenticate() -> Caller:
    """Find who is calling, by the rules in the module docstring.

    :raises ApiProblem: 401 for a missing or refused credential, 403 for a locked
        account or a failed CSRF check.
    """
    client = client_info()
    authorization = request.headers.get("Authorization")
    auth_token = request.headers.get(
        current_app.config["SECURITY_TOKEN_AUTHENTICATION_HEADER"]
    )
    if authorization is not None or auth_token is not None:
        _refuse_if_failing_too_often(client)
    if authorization is not None and auth_token is not None:
        # Two credentials: which one counts would be a guess (RFC 6750 forbids a
        # client to send more than one), so neither does.
        _record_failure("two_credentials", client)
        raise ApiProblem(
            "invalid-token",
            "Send one credential: Authorization or Authentication-Token, not both.",
            headers={"WWW-Authenticate": 'Bearer realm="diary", error="invalid_request"'},
        )
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            _record_failure("malformed_authorization", client)
            raise _invalid_token()
        try:
            token = tokens.authenticate(
                secret.strip(), ip=client.ip, user_agent=client.user_agent
            )
        except tokens.AccountLocked:
            raise ApiProblem(
                "account-locked",
                "This account is temporarily locked; the token works again once it is "
                "unlocked.",
            ) from None
        except tokens.TokenRefused:  # recorded in the audit log by the service
            _count_failure(client)
            raise _invalid_token() from None
        return _sign_in(Caller(token.user, PERSONAL_ACCESS_TOKEN, token))
    if auth_token is not None:
        return _sign_in(Caller(_auth_token_user(auth_token, client), AUTH_TOKEN))
    if current_user.is_authenticated and get_request_attr("fs_authn_via") == "session":
        if request.method not in SAFE_METHODS:
            csrf.protect()  # raises CSRFError, rendered as 403 csrf-failed
        g.api_caller = Caller(current_user._get_current_object(), SESSION)
        return g.api_caller
    raise ApiProblem(
        "unauthenticated",
        "Send a personal access token (Authorization: Bearer diary_pat_…), an "
        "Authentication-Token, or the session cookie.",
        headers={"WWW-Authenticate": 'Bearer realm="diary"'},
    )


def authenticated(*, scope: str | None = None, permissions: tuple[str, ...] = ()):
    """Decorate an API view: authenticate the caller, count the request against the
    caller's rate limits, then require ``scope`` of a personal access token and at
    least one of ``permissions`` of the user (any way in).

    Scope and permission failures are 403, and count against the limits like any
    other request. Which entry a caller may touch is decided by the entries service
    in the view.
    """

    def decorator(view):
        @functools.wraps(view)  # the limiter keys its limits by the view's name
        def checked(*args, **kwargs):
            caller = current_caller()
            if scope and caller.scopes is not None and scope not in caller.scopes:
                raise ApiProblem(
                    "insufficient-scope",
                    f"This token lacks the {scope} scope.",
                    headers={
                        "WWW-Authenticate": (
                            f'Bearer realm="diary", error="insufficient_scope", '
                            f'scope="{scope}"'
                        )
                    },
                )
            if permissions and not any(caller.user.has_permission(p) for p in permissions):
                raise Forbidden("Your account's roles do not allow this.")
            return view(*args, **kwargs)

        limited = _per_user_limit(_per_token_limit(checked))

        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            authenticate()
            return limited(*args, **kwargs)

        return wrapper

    return decorator


def _invalid_token() -> ApiProblem:
    # One answer for every reason (unknown, revoked, expired, deactivated owner):
    # the reason goes to the audit log, not to whoever holds the token.
    return ApiProblem(
        "invalid-token",
        "The token is malformed, unknown, expired or revoked.",
        headers={"WWW-Authenticate": 'Bearer realm="diary", error="invalid_token"'},
    )


def _auth_token_user(value: str, client) -> User:
    """Return the user of a Flask-Security auth token, as the library's own request
    loader would (signature, TOKEN_MAX_AGE, active user, ``verify_auth_token``),
    but from the header only: tokens in URLs end up in logs and histories."""
    datastore = security.datastore
    try:
        data = parse_auth_token(value)
        user = datastore.find_user(
            case_insensitive=False, **{datastore.get_token_uniquifier_name(): data["uid"]}
        )
    except Exception:  # BadSignature, SignatureExpired, ValueError, KeyError …
        user, data = None, None
    if user is None or not user.active or not user.verify_auth_token(data):
        _record_failure("auth_token_invalid", client, user)
        raise _invalid_token()
    if user.is_locked():
        _record_failure("locked", client, user, counts=False)
        raise ApiProblem(
            "account-locked",
            "This account is temporarily locked; sign in again once it is unlocked.",
        )
    return user


def _record_failure(reason: str, client, user: User | None = None, counts: bool = True) -> None:
    if counts:
        _count_failure(client)
    record_event(
        AuditTag.TOKEN_AUTH_FAILURE,
        user=user,
        ip=client.ip,
        user_agent=client.user_agent,
        details={"reason": reason},
    )


def _refuse_if_failing_too_often(client) -> None:
    try:
        ratelimits.check(Limit.API_AUTH_FAILURES_PER_IP, client.ip or "unknown")
    except ratelimits.Exceeded as exceeded:
        raise ApiProblem(
            "too-many-failures",
            "Too many refused credentials from this address; try again after "
            "Retry-After seconds.",
            headers={"Retry-After": str(exceeded.retry_after)},
        ) from None


def _count_failure(client) -> None:
    try:
        ratelimits.hit(Limit.API_AUTH_FAILURES_PER_IP, client.ip or "unknown")
    except ratelimits.Exceeded:
        pass  # already used up meanwhile: the next request is refused up front


def _sign_in(caller: Caller) -> Caller:
    """Make ``caller`` the current user for this request only: no session cookie is
    written for a token request."""
    security.login_manager._update_request_context_with_user(caller.user)
    identity_changed.send(
        current_app._get_current_object(), identity=Identity(caller.user.fs_uniquifier)
    )
    g.api_caller = caller
    return caller


def _token_key() -> str:
    return f"api-token:{current_caller().token.id}"


def _user_key() -> str:
    return f"api-user:{current_caller().user.id}"


def _not_a_token() -> bool:
    return current_caller().token is None


# Shared across all API endpoints: one budget per token and one per user, counted
# in the same limiter (and storage) as the rest of the app's limits.
_per_token_limit = limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT_PER_TOKEN"],
    scope="api-token",
    key_func=_token_key,
    exempt_when=_not_a_token,
    # Any app-wide default limits (per IP) still apply on top of these.
    override_defaults=False,
)
_per_user_limit = limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT_PER_USER"],
    scope="api-user",
    key_func=_user_key,
    override_defaults=False,
)
