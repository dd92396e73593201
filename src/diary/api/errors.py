"""Every failure under ``/api/v1`` as ``application/problem+json`` (RFC 9457).

Each kind of failure has a stable ``type`` (a URI reference, relative to the
site: ``/api/v1/problems/<slug>``, a page that says what it means, from
:data:`WHEN`; docs/api.md lists them too), a ``title`` that does
not change from one occurrence to the next, the HTTP ``status`` and a ``detail``
for this occurrence. Validation failures add ``errors``: the failing fields with
their messages. A 500 never says more than that something went wrong.

The diary pages keep their HTML error pages (:mod:`diary.errors`); these handlers
are registered on the API blueprints only, per status code, so that they win over
the app's own handlers for requests inside the API.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Blueprint, Response, current_app, json, request, session
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, default_exceptions

from diary import unavailable

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "/api/v1/problems/"

# status -> (slug, title) for failures that have no more specific kind.
BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "The request could not be understood"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("body-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "The request has invalid fields"),
    429: ("rate-limited", "Too many requests"),
    500: ("server-error", "Something went wrong on our side"),
    503: ("unavailable", "Temporarily unavailable"),
}

# Kinds of failure more specific than their status.
KINDS: dict[str, tuple[int, str]] = {
    "unauthenticated": (401, "Authentication required"),
    "invalid-token": (401, "The access token is not valid"),
    "csrf-failed": (403, "The CSRF token is missing or wrong"),
    "account-locked": (403, "The account is temporarily locked"),
    "insufficient-scope": (403, "The access token lacks the scope needed"),
    "invalid-cursor": (400, "The pagination cursor is not valid"),
    "invalid-query": (400, "The search cannot be run"),
    "access-reason-required": (400, "A reason is required for this access"),
    "too-many-failures": (429, "Too many refused credentials"),
}


# slug -> when an API answers with it: the page at its type URI says this.
WHEN: dict[str, str] = {
    "bad-request": "The request could not be read: the body is not JSON, say.",
    "invalid-cursor": "The cursor parameter was not made by the API.",
    "invalid-query": "The q parameter has nothing to search for: only spaces.",
    "access-reason-required": (
        "Reading, changing, deleting or listing another user's entries (with an "
        "entry:*-any permission) needs a Diary-Access-Reason header: one line of at most "
        "200 characters, percent-encoded UTF-8 where not ASCII. The owner sees it."
    ),
    "unauthenticated": "The request carried no credential at all.",
    "invalid-token": (
        "The token is malformed, unknown, expired or revoked, or its user is "
        "deactivated (one answer for all; the reason is in the audit log), or the "
        "request carried two token headers."
    ),
    "forbidden": "Another user's entry, or the account's roles do not allow this.",
    "insufficient-scope": "The personal access token lacks the scope this needs.",
    "account-locked": "The account is temporarily locked after failed sign-ins.",
    "csrf-failed": "A request signed in by the session cookie without the right X-CSRFToken header.",
    "not-found": "No such entry, or no such path under /api/v1.",
    "method-not-allowed": "The method is not allowed here; the Allow header lists those that are.",
    "not-acceptable": "The API cannot answer in a format the Accept header allows.",
    "conflict": "The entry changed since expected_updated_at: fetch it again.",
    "body-too-large": "The request body is over the limit (API_MAX_BODY_BYTES).",
    "unsupported-media-type": "The body is not in a format the API reads (JSON).",
    "validation-error": "A field breaks a rule; the errors member names the fields.",
    "rate-limited": "Too many requests; wait Retry-After seconds.",
    "too-many-failures": (
        "Too many refused credentials from this address; every request from it that "
        "carries a credential waits Retry-After seconds."
    ),
    "server-error": "Something went wrong on the server; it has been logged.",
    "unavailable": (
        "The database or Redis cannot be reached right now; nothing was changed "
        "by a request that got this. Try again after Retry-After seconds."
    ),
}


def problem_types() -> list[tuple[str, int, str, str]]:
    """Return every problem type as ``(slug, status, title, when)``, by status."""
    found = {slug: (status, title) for status, (slug, title) in BY_STATUS.items()}
    found.update(KINDS)
    return sorted(
        ((slug, status, title, WHEN[slug]) for slug, (status, title) in found.items()),
        key=lambda t: (t[1], t[0]),
    )


class ApiProblem(HTTPException):
    """An API failure of a specific kind (see :data:`KINDS`), raised by views and the
    auth layer and rendered by :func:`handle_http_error`."""

    def __init__(
        self,
        kind: str,
        detail: str | None = None,
        *,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        code, title = KINDS[kind]
        super().__init__(description=detail or title)
        self.code = code
        self.kind = kind
        self.title = title
        self.errors = errors
        self.extra_headers = headers or {}


def problem(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Return a problem+json response."""
    slug, default_title = BY_STATUS.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + (kind or slug),
        "title": title or default_title,
        "status": status,
        "detail": detail or title or default_title,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = current_app.response_class(
        json.dumps(body), status=status, mimetype=PROBLEM_JSON
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    # An error is about this request only: never cache it.
    response.headers["Cache-Control"] = "no-store"
    return response


def handle_http_error(error: HTTPException) -> Response:
    """Render any HTTP error raised inside the API as problem+json."""
    if isinstance(error, ApiProblem):
        return problem(
            error.code,
            error.description,
            kind=error.kind,
            title=error.title,
            errors=error.errors,
            headers=error.extra_headers,
        )
    store_error = getattr(session, "store_unavailable", None)
    if isinstance(error, CSRFError) and store_error:
        return handle_unavailable(unavailable.session_store_down(store_error))
    if isinstance(error, CSRFError):
        code, title = KINDS["csrf-failed"]
        return problem(
            code,
            "Requests signed in by the session cookie must send the CSRF token in "
            "the X-CSRFToken header.",
            kind="csrf-failed",
            title=title,
        )
    code = error.code or 500
    down = unavailable.cause(getattr(error, "original_exception", None))
    if down is not None:
        return handle_unavailable(down)
    if code >= 500:
        return _server_error()
    headers: dict[str, str] = {}
    errors = None
    detail = _own_description(error)
    if code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if code == 429:
        headers["Retry-After"] = str(_retry_after())
        detail = "Too many requests; try again after Retry-After seconds."
    if code in (400, 422):
        # flask-smorest (webargs) puts the failing fields in error.data["messages"]:
        # {"json": {"content": ["..."]}, "query": {"limit": ["..."]}}; a body that
        # is not JSON at all is {"json": ["Invalid JSON body."]} with 400.
        errors = _field_errors(error)
    if code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="diary"'
    return problem(code, detail, errors=errors, headers=headers)


def handle_unavailable(error: BaseException) -> Response:
    """Answer 503 with ``Retry-After`` for a database or Redis that cannot be
    reached (:mod:`diary.unavailable`); the failure is logged in one line.

    :raises: ``error`` itself if it is not a service being down (a bug: 500).
    """
    if not unavailable.is_unavailable(error):
        raise error
    unavailable.report(error)
    unavailable.forget_user()
    return problem(
        503,
        "A service the API needs cannot be reached. Try again after Retry-After seconds.",
        headers={"Retry-After": unavailable.retry_after()},
    )


def _server_error() -> Response:
    # The original exception, if any, was logged by Flask; never show it.
    return problem(500, "The error has been logged. Please try again in a moment.")


def register(bp: Blueprint) -> None:
    """Answer every HTTP error status inside ``bp`` with problem+json.

    Registered per status code, not for HTTPException at large: Flask looks for a
    handler by code first, so an app-level handler for, say, 500 or CSRFError
    (400) would otherwise win over a blueprint's HTTPException handler.
    """
    for code in default_exceptions:
        if code >= 400:
            bp.register_error_handler(code, handle_http_error)
    bp.register_error_handler(ApiProblem, handle_http_error)
    bp.register_error_handler(CSRFError, handle_http_error)
    for error_class in unavailable.ERRORS:
        bp.register_error_handler(error_class, handle_unavailable)


def _field_errors(error: HTTPException) -> dict[str, Any] | None:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if not isinstance(messages, dict):
        return None
    # Flatten webargs' {location: {field: [...]}} into {field: [...]}; the location
    # is implied by the field (query parameters and body fields do not share names).
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat or None


def _own_description(error: HTTPException) -> str | None:
    # Werkzeug's stock descriptions are generic; keep only those set on purpose.
    default = type(error).description
    return error.description if error.description != default else None


def _retry_after() -> int:
    """Seconds until the breached rate limit lets requests through again."""
    from diary.extensions import limiter

    current = limiter.current_limit
    if current is None:
        return 60
    # reset_at is a whole second; never promise more than the limit's own window.
    window = current.limit.get_expiry()
    return max(1, min(window, math.ceil(current.reset_at - time.time())))
