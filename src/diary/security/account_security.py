"""Account security, bound to an app in one call: lockout, sign-in audit,
server-side sessions and the request's identity, rate limits, security headers,
proxies, the unlock command. (The request body limit,
:mod:`diary.security.body_limit`, is a request hook only: see diary.pipeline.)"""

from __future__ import annotations

from flask import Flask

from diary.security import (
    commands,
    events,
    headers,
    identity,
    lockout,
    proxies,
    ratelimits,
    session_store,
)


def init_app(app: Flask) -> None:
    """Switch on Diary's account security for ``app`` (after Flask-Security and
    Flask-Limiter are bound to it)."""
    proxies.init_app(app)
    lockout.init_app(app)
    events.init_app(app)
    session_store.init_app(app)
    identity.init_app(app)
    ratelimits.init_app(app)
    headers.init_app(app)
    commands.init_app(app)
