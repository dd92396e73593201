"""Who is calling the API, and the per-token and per-user rate limits.

Three ways in (:data:`diary.pipeline.API`): ``Authorization: Bearer diary_pat_…``
(a personal access token, limited to its scopes), ``Authentication-Token: …`` (a
Flask-Security auth token from ``POST /login`` with ``include_auth_token``), or
the browser's session cookie. Who the caller is was decided before the view, by
the one credential policy every request goes through
(:mod:`diary.security.identity`, rules in :mod:`diary.services.credentials`);
this module turns its answer into the API's: the identity, or a problem.

A request that carries a token header is judged by that token alone: a bad token
is refused even if a session cookie came along, and a session is never used to
rescue it. A request with both token headers is refused.

Token requests need no CSRF token: a browser never adds these headers by itself,
so another site cannot make one ride on a visitor's credentials. The session
cookie is exactly what a browser does add by itself, so on unsafe methods a
cookie-authenticated request must carry the CSRF token in the ``X-CSRFToken``
header. The API blueprints are exempt from Flask-WTF's app-wide check (which would
demand a CSRF token from token clients too) and call ``csrf.protect()`` here,
once they know the session is what authenticates the request.

Refused credentials are recorded and counted per client IP by the policy
(``LIMIT_API_AUTH_FAILURES_PER_IP``): once an address has used up its budget,
every request from it that carries a credential gets 429 with ``Retry-After``
before the credential is looked at.
"""

from __future__ import annotations

import functools

from flask import current_app, request
from werkzeug.exceptions import Forbidden

from diary.api.errors import ApiProblem
from diary.extensions import csrf, limiter
from diary.security.identity import current_identity, current_refusal
from diary.services.credentials import TOKEN_KINDS, Identity, Kind, Reason, Refused

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_caller() -> Identity:
    """Return this request's caller (an API view runs only with one)."""
    identity = current_identity()
    assert identity is not None, "an API view ran without an authenticated caller"
    return identity


def authenticate() -> Identity:
    """Return the identity the policy found for this request.

    :raises ApiProblem: 401 for a missing or refused credential, 403 for a locked
        account or a failed CSRF check, 429 for a client over its failure budget.
    """
    identity = current_identity()
    if identity is None:
        raise _problem(current_refusal())
    if identity.kind == Kind.SESSION and request.method not in SAFE_METHODS:
        csrf.protect()  # raises CSRFError, rendered as 403 csrf-failed
    return identity


def _problem(refusal: Refused | None) -> ApiProblem:
    if refusal is None:
        return ApiProblem(
            "unauthenticated",
            "Send a personal access token (Authorization: Bearer diary_pat_…), an "
            "Authentication-Token, or the session cookie.",
            headers={"WWW-Authenticate": 'Bearer realm="diary"'},
        )
    if refusal.reason == Reason.TOO_MANY_FAILURES:
        return ApiProblem(
            "too-many-failures",
            "Too many refused credentials from this address; try again after "
            "Retry-After seconds.",
            headers={"Retry-After": str(refusal.retry_after)},
        )
    if refusal.reason == Reason.LOCKED:
        return ApiProblem(
            "account-locked",
            "This account is temporarily locked; its credentials work again once it "
            "is unlocked.",
        )
    if refusal.reason == Reason.TWO_CREDENTIALS:
        return ApiProblem(
            "invalid-token",
            "Send one credential: Authorization or Authentication-Token, not both.",
            headers={"WWW-Authenticate": 'Bearer realm="diary", error="invalid_request"'},
        )
    if refusal.kind in TOKEN_KINDS:
        # One answer for every reason (unknown, revoked, expired, deactivated
        # owner): the reason goes to the audit log, not to whoever holds the token.
        return ApiProblem(
            "invalid-token",
            "The token is malformed, unknown, expired or revoked.",
            headers={"WWW-Authenticate": 'Bearer realm="diary", error="invalid_token"'},
        )
    return _problem(None)


def authenticated(*, scope: str | None = None, permissions: tuple[str, ...] = ()):
    """Decorate an API view: authenticate the caller, count the request against the
    caller's rate limits, then require ``scope`` of a personal access token and at
    least one of ``permissions`` of the identity (any way in).

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
            if permissions and not any(caller.may(p) for p in permissions):
                raise Forbidden("Your account's roles do not allow this.")
            return view(*args, **kwargs)

        limited = _per_user_limit(_per_token_limit(checked))

        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            authenticate()
            return limited(*args, **kwargs)

        return wrapper

    return decorator


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
