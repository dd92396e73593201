"""Security headers on every response: Flask-Talisman, plus Cache-Control.

Flask-Talisman (wntrblm/flask-talisman; 1.1.0 from 2023 is its latest release, a
small, stable extension of plain before/after_request hooks that Flask-Security's
docs point to; tests/security/test_headers.py checks it on Flask 3.1) sets the
Content-Security-Policy, X-Content-Type-Options,
X-Frame-Options, Referrer-Policy and Permissions-Policy headers, and with
``HTTPS`` on redirects plain HTTP to HTTPS and sends HSTS. Its settings come from
``config.py`` (``CONTENT_SECURITY_POLICY``, ``REFERRER_POLICY``,
``PERMISSIONS_POLICY``, ``HSTS_*``). One Talisman per app: the object remembers
the app it was bound to.

The CSP allows no inline script or style at all (no nonces either: Diary's pages
have none) and ``img-src 'self' data:`` for the authenticator QR code, which is
rendered on the server as a data: URI.

Cache-Control is Diary's own small hook: Flask-Security's version only covers its
own blueprint and, with Werkzeug 3.1, renders ``private=True, no-store=True``,
which caches do not understand. Every response to a signed-in user, and every
page of the security blueprint (their forms carry CSRF tokens), gets
``no-store, private``, so a shared computer's browser cache or a proxy keeps no
copy of a diary page. Static files are the same for everyone and stay cacheable.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user
from flask_talisman import Talisman

EXTENSION_KEY = "diary.talisman"


def init_app(app: Flask) -> None:
    """Send Diary's security headers from ``app``."""
    config = app.config
    https = bool(config["HTTPS"])
    app.extensions[EXTENSION_KEY] = Talisman(
        app,
        content_security_policy=dict(config["CONTENT_SECURITY_POLICY"]),
        referrer_policy=config["REFERRER_POLICY"],
        permissions_policy=dict(config["PERMISSIONS_POLICY"]),
        frame_options="DENY",
        force_https=https,
        strict_transport_security=https,
        strict_transport_security_max_age=int(config["HSTS_MAX_AGE"]),
        strict_transport_security_include_subdomains=bool(
            config["HSTS_INCLUDE_SUBDOMAINS"]
        ),
        # Cookie flags stay as config.py sets them (Secure follows HTTPS there).
        session_cookie_secure=https,
        session_cookie_http_only=bool(config["SESSION_COOKIE_HTTPONLY"]),
        session_cookie_samesite=config["SESSION_COOKIE_SAMESITE"],
    )


def no_store_when_private(response):
    """Mark ``response`` ``Cache-Control: no-store, private`` if it is for a
    signed-in user or comes from the security blueprint; return it."""
    if request.endpoint == "static":
        return response
    # The request's user was decided by diary.security.identity, which never reads
    # the body (a refused one, 413, included).
    private = request.blueprint == "security" or current_user.is_authenticated
    if not private:
        return response
    if "Cache-Control" not in response.headers:
        # The usual case, written at once: each change through ``cache_control``
        # below serializes the header anew.
        response.headers["Cache-Control"] = "no-store, private"
        return response
    response.cache_control.no_store = True
    response.cache_control.private = True
    response.cache_control.public = False
    response.cache_control.max_age = None
    return response
