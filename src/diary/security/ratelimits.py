"""Rate limits on Flask-Security's endpoints.

Flask-Security's views belong to the library, so they cannot carry
``@limiter.limit`` decorators, and decorating them after the fact would change
module-level functions shared by every app in the process. Instead one
``before_request`` hook maps the endpoint of each POST to the named limits of
:mod:`diary.services.ratelimits` and counts it there, before the view runs (so
before any password is checked). Only POSTs count: viewing a form is free.

The counting uses the rate limiter Flask-Limiter built from this app's settings
(storage, strategy). It is taken right after ``limiter.init_app(app)`` and kept
on the app, because the shared ``Limiter`` object only remembers the storage of
the app bound last; two apps in one process (the tests) each keep their own.

Over a limit the answer is 429 with ``Retry-After``: Diary's styled error page,
or Flask-Security's JSON error shape when the request wants JSON. A limit whose
storage (Redis) cannot be reached fails open or closed as its setting says
(:func:`diary.services.ratelimits.guarded`); closed is 503 with ``Retry-After``,
in the same two shapes.
"""

from __future__ import annotations

import logging

from flask import Flask, has_app_context, request
from flask_security.utils import json_error_response

from diary import errors, unavailable
from diary.unavailable import Unavailable
from diary.extensions import limiter
from diary.security.core import security
from diary.security.client import client_info
from diary.services import ratelimits
from diary.services.ratelimits import Limit

# Endpoints that check a credential (a password, a code, a passkey) share the
# sign-in budget of an IP address. Endpoints of features that are switched off
# simply never match.
SIGN_IN_ENDPOINTS = (
    "security.login",
    "security.verify",
    "security.change_password",
    "security.change_email",
    "security.us_signin",
    "security.us_verify",
    "security.wan_signin_response",
    "security.wan_verify_response",
    "security.two_factor_token_validation",
    "security.mf_recovery",
)

# endpoint -> limits counted by the client's IP address, limits counted by the
# email address in the form or JSON body.
RULES: dict[str, tuple[tuple[Limit, ...], tuple[Limit, ...]]] = {
    **{endpoint: ((Limit.LOGIN_PER_IP,), ()) for endpoint in SIGN_IN_ENDPOINTS},
    "security.register": ((Limit.REGISTER_PER_IP,), ()),
    "security.forgot_password": ((Limit.RESET_PER_IP,), (Limit.RESET_PER_EMAIL,)),
    "security.send_confirmation": ((Limit.CONFIRM_PER_IP,), (Limit.CONFIRM_PER_EMAIL,)),
}

MESSAGE = "Too many attempts. Please wait a little and try again."


def init_app(app: Flask) -> None:
    """Rate-limit Flask-Security's POST endpoints on ``app``.

    Must run after ``limiter.init_app(app)``.
    """
    app.extensions[ratelimits.EXTENSION_KEY] = limiter.limiter
    # Flask-Limiter reads RATELIMIT_SWALLOW_ERRORS only for the first app bound to
    # the shared Limiter (it keeps the value once set), while every other setting
    # of it follows the app bound last; this app's choice (diary.config.finalize,
    # from OTHER_LIMITS_FAIL_OPEN) must hold for this app.
    limiter._swallow_errors = bool(app.config.get("RATELIMIT_SWALLOW_ERRORS"))
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, OncePerOutage) for f in limiter_log.filters):
        limiter_log.addFilter(OncePerOutage())


class OncePerOutage(logging.Filter):
    """Let through Flask-Limiter's "Failed to rate limit. Swallowing error" (logged
    with its traceback on every request while the storage is down) once per
    outage, as Diary's own record of it (:func:`diary.services.ratelimits.guarded`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not (isinstance(record.msg, str) and record.msg.startswith("Failed to")):
            return True
        if not has_app_context():
            return True
        return ratelimits.outage_began_now()


def check_limits():
    """Count a POST to a rate-limited endpoint; answer 429 over a limit (a request
    hook, see diary.pipeline)."""
    if request.method != "POST" or request.endpoint not in RULES:
        return None
    by_ip, by_email = RULES[request.endpoint]
    try:
        ip = client_info().ip or "unknown"
        for limit in by_ip:
            ratelimits.hit(limit, ip)
        email = posted_email()
        if email:
            for limit in by_email:
                ratelimits.hit(limit, ratelimits.email_key(email))
    except ratelimits.Exceeded as exceeded:
        return too_many_requests(exceeded.retry_after)
    except Unavailable as down:
        return service_unavailable(down)
    return None


def service_unavailable(down: Unavailable):
    """Return the 503 answer of a limit failing closed (its storage unreachable):
    JSON when the request wants JSON, else the page; both with ``Retry-After``."""
    if security._want_json(request):
        headers = {"Retry-After": unavailable.retry_after()}
        unavailable.report(down)
        body = json_error_response(errors=errors.UNAVAILABLE_MESSAGE)
        return security._render_json(body, 503, headers, None)
    return errors.service_unavailable(down)


def too_many_requests(retry_after: int):
    """Return the 429 answer: JSON when the request wants JSON, else the page."""
    headers = {"Retry-After": str(retry_after)}
    if security._want_json(request):
        return security._render_json(json_error_response(errors=MESSAGE), 429, headers, None)
    body, status = errors.render_error(429, MESSAGE)
    return body, status, headers


def posted_email() -> str | None:
    """Return the ``email`` of the posted form or JSON body, if it is a non-blank
    string."""
    if request.is_json:
        data = request.get_json(silent=True)
        value = data.get("email") if isinstance(data, dict) else None
    else:
        value = request.form.get("email")
    return value if isinstance(value, str) and value.strip() else None
