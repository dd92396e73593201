"""Session lifetime on the server, "remember me", and sign-in times in the session.

Flask's session cookie is signed, not stored on the server, so its expiry is the
browser's business. The idle timeout and absolute lifetime are therefore enforced
here, on every request, from two times kept inside the signed session: when the
user signed in and when the session was last used. The rule is
:func:`diary.services.sessions.expiry_reason`. The last-use time is written back
only when it moved by a minute or more (``SEEN_RESOLUTION``), so a busy page does
not get a new session cookie on every request; the idle timeout is therefore exact
to the minute and errs on the safe side: a session can end up to a minute before
``SESSION_IDLE_TIMEOUT`` has passed since its last request, never after.

An ended session is emptied without touching a "remember me" cookie: a user who
asked to be remembered is signed in again from that cookie by Flask-Login (and gets
fresh times), which is what "remember me" means; everyone else is anonymous and is
sent to the login page. "Sign out everywhere" revokes remember cookies as well.

Flask-Login's remember cookie holds only the signed user id, so its 14 days
(``REMEMBER_COOKIE_DURATION``) would be the browser's word alone: a copied cookie
would work for ever. A second signed cookie, set beside it, records when it was
issued; a remember cookie without a valid, young enough stamp is refused and
deleted (by Flask-Login itself, through its ``_remember = "clear"`` session flag).
"""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_login import user_loaded_from_cookie
from flask_login.utils import decode_cookie
from flask_security import user_authenticated
from itsdangerous import BadData, URLSafeSerializer

from diary.services import sessions

SIGNED_IN_AT = "diary_signed_in_at"
LAST_SEEN_AT = "diary_seen_at"
# The last-use time is written back at most this often (seconds), so that not
# every request of a busy page rewrites the session cookie.
SEEN_RESOLUTION = 60
# Flask-Login's and Flask-Security's keys of a signed-in session.
LOGIN_KEYS = ("_user_id", "_fresh", "_id", "fs_paa", "identity.name", "identity.auth_type")
# The cookie that says when the "remember me" cookie was issued, and for whom.
REMEMBER_STAMP_COOKIE = "diary_remember_at"


def init_app(app: Flask) -> None:
    """Enforce the session lifetime on every request of ``app``."""
    # First of all before_request hooks, in this order: Flask-Principal's loads the
    # user, and must find an ended session emptied and a stale remember cookie
    # refused.
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks[0:0] = [_enforce_lifetime, _check_remember_stamp]
    # Runs before Flask-Login's own after_request (registered earlier), which
    # consumes the "_remember" flag this one reads.
    app.after_request(_stamp_remember_cookie)
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


def _stamp_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="diary-remember-at")


def _remember_cookie_name() -> str:
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")


def _stamp_remember_cookie(response):
    """Set (or delete) the issue stamp whenever Flask-Login sets (or deletes) its
    remember cookie in this response; return ``response``."""
    operation = session.get("_remember")
    config = current_app.config
    if operation == "set" and "_user_id" in session:
        stamp = _stamp_serializer().dumps(
            {"uid": session["_user_id"], "at": sessions.now().timestamp()}
        )
        response.set_cookie(
            REMEMBER_STAMP_COOKIE,
            stamp,
            max_age=config["REMEMBER_COOKIE_DURATION"],
            secure=config["REMEMBER_COOKIE_SECURE"],
            httponly=True,
            samesite=config["REMEMBER_COOKIE_SAMESITE"],
        )
    elif operation == "clear":
        response.delete_cookie(REMEMBER_STAMP_COOKIE)
    return response


def _check_remember_stamp() -> None:
    """Refuse a remember cookie that has no valid stamp, or an old one, before
    Flask-Login would sign anybody in with it."""
    if "_user_id" in session or session.get("_remember") == "clear":
        return
    cookie = request.cookies.get(_remember_cookie_name())
    if cookie is None:
        return
    try:
        stamp = _stamp_serializer().loads(request.cookies.get(REMEMBER_STAMP_COOKIE, ""))
        valid = (
            stamp["uid"] == decode_cookie(cookie)
            and sessions.now().timestamp() - float(stamp["at"])
            < current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds()
        )
    except (BadData, KeyError, TypeError, ValueError):
        valid = False
    if not valid:
        session["_remember"] = "clear"
