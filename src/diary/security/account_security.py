"""Account security of issue 3, bound to an app in one call: lockout, sign-in
audit, session lifetime, rate limits, security headers, proxies, the unlock
command; and the request body limit (issue 9)."""

from __future__ import annotations

from flask import Flask

from diary.security import (
    body_limit,
    commands,
    events,
    headers,
    lockout,
    proxies,
    ratelimits,
    sessions,
)


def init_app(app: Flask) -> None:
    """Switch on Diary's account security for ``app`` (after Flask-Security and
    Flask-Limiter are bound to it)."""
    proxies.init_app(app)
    lockout.init_app(app)
    events.init_app(app)
    sessions.init_app(app)
    ratelimits.init_app(app)
    headers.init_app(app)
    commands.init_app(app)
    body_limit.init_app(app)  # first of all before-request functions
