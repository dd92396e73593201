"""Session lifetime on the server, "remember me", and sign-in times in the session.

Flask's session cookie is signed, not stored on the server, so its expiry is the
browser's business. The idle timeout and absolute lifetime are therefore enforced
here, on every request, from two times kept inside the signed session: when the
user signed in and when the session was last used. The rule is
:func:`diary.services.sessions.expiry_reason`.

An ended session is emptied without touching a "remember me" cookie: a user who
asked to be remembered is signed in again from that cookie by Flask-Login (and gets
fresh times), which is what "remember me" means; everyone else is anonymous and is
sent to the login page. "Sign out everywhere" revokes remember cookies as well.
"""

from __future__ import annotations

from flask import Flask, g, request, session
from flask_login import user_loaded_from_cookie
from flask_security import user_authenticated

from diary.services import sessions

SIGNED_IN_AT = "diary_signed_in_at"
LAST_SEEN_AT = "diary_seen_at"
# The last-use time is written back at most this often (seconds), so that not
# every request of a busy page rewrites the session cookie.
SEEN_RESOLUTION = 60
# Flask-Login's and Flask-Security's keys of a signed-in session.
LOGIN_KEYS = ("_user_id", "_fresh", "_id", "fs_paa", "identity.name", "identity.auth_type")


def init_app(app: Flask) -> None:
    """Enforce the session lifetime on every request of ``app``."""
    # First of all before_request hooks: Flask-Principal's loads the user from the
    # session, and must find an ended session already emptied.
    app.before_request_funcs.setdefault(None, []).insert(0, _enforce_lifetime)
    user_authenticated.connect(_on_signed_in, app)
    user_loaded_from_cookie.connect(_on_loaded_from_cookie, app)


def _start(at: float) -> None:
    session[SIGNED_IN_AT] = at
    session[LAST_SEEN_AT] = at


def _on_signed_in(_app, **_extra) -> None:
    _start(sessions.now().timestamp())


def _on_loaded_from_cookie(_app, **_extra) -> None:
    # A "remember me" sign-in is a new session with times of its own.
    _start(sessions.now().timestamp())


def _enforce_lifetime() -> None:
    if request.endpoint == "static" or "_user_id" not in session:
        return
    at = sessions.now().timestamp()
    signed_in_at = session.get(SIGNED_IN_AT)
    last_seen_at = session.get(LAST_SEEN_AT)
    if signed_in_at is None or last_seen_at is None:
        # A session from before these times were kept: count from now.
        _start(at)
        return
    if sessions.expiry_reason(signed_in_at, last_seen_at, at) is not None:
        for key in (*LOGIN_KEYS, SIGNED_IN_AT, LAST_SEEN_AT):
            session.pop(key, None)
        g.pop("_login_user", None)
        return
    if at - last_seen_at >= SEEN_RESOLUTION:
        session[LAST_SEEN_AT] = at
