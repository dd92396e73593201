"""Sign-in and sign-out in the audit log, from Flask-Security's signals.

Failed attempts of a known account are recorded by the lockout code, next to the
count they add to (:func:`diary.services.lockout.record_failure`); attempts for an
identity that has no account by
:class:`diary.security.login_form.DiaryLoginForm`, without a user.
Passwords and codes are never recorded.
"""

from __future__ import annotations

from flask import Flask
from flask_login import user_logged_out
from flask_security import user_authenticated


def init_app(app: Flask) -> None:
    """Connect the audit log to Flask-Security's sign-in and sign-out signals."""
    user_authenticated.connect(_on_user_authenticated, app)
    # Flask-Security's logout_user() ends in Flask-Login's, which sends this one
    # (the library's own user_unauthenticated means "refused for want of a login").
    user_logged_out.connect(_on_user_logged_out, app)


def _on_user_authenticated(_app, user, authn_via=None, **_extra) -> None:
    from diary.security.client import client_info
    from diary.services import audit

    client = client_info()
    audit.record_event(
        audit.AuditTag.LOGIN_SUCCESS,
        user=user,
        ip=client.ip,
        user_agent=client.user_agent,
        details={"via": list(authn_via or [])},
    )


def _on_user_logged_out(_app, user=None, **_extra) -> None:
    from diary.security.client import client_info
    from diary.services import audit

    if user is None or not getattr(user, "id", None) or _was_deleted(user):
        return
    client = client_info()
    # The logout view commits nothing of its own after this signal: commit here.
    audit.record_event(
        audit.AuditTag.LOGOUT, user=user, ip=client.ip, user_agent=client.user_agent
    )


def _was_deleted(user) -> bool:
    """Return whether ``user``'s row has been deleted in this request (the account
    was deleted, then its browser signed out): no event can name it any more, and
    the deletion has its own."""
    from sqlalchemy import inspect

    state = inspect(user, raiseerr=False)
    return state is not None and state.was_deleted
