"""Account lockout, wired into Flask-Security.

The library asks the user model on every authentication pathway:
``User.track_failed_authn`` when a presented credential does not verify (form and
JSON password login, unified sign-in passcodes, passkeys, second-factor codes,
re-authentication, and Diary's change-password and change-email forms) and
``User.is_locked`` once the credentials did verify. Diary's
:class:`~diary.models.User` overrides both and delegates to the functions here,
which :func:`init_app` registers on the app (the models import nothing above
them); the rule itself is :mod:`diary.services.lockout`. Its signals complete the picture: a successful
sign-in clears the count, a completed password reset unlocks.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_security import password_reset, user_authenticated
from flask_security.utils import get_message

from diary.models.users import LOCKOUT_HOOKS_KEY
from diary.security.client import client_info
from diary.services import lockout

# Flask-Security also asks is_locked() on these endpoints. They are how a locked
# out owner gets back in (the lockout mail links to the reset form), so a lockout
# must not shut them.
RECOVERY_ENDPOINTS = frozenset({"security.forgot_password", "security.recover_username"})


class _Hooks:
    """What ``User.track_failed_authn`` and ``User.is_locked`` call."""

    @staticmethod
    def failed(user, auth_type: str, tfa: bool) -> None:
        failed_authn(user, auth_type, tfa)

    @staticmethod
    def locked(user, form_error: list[str] | None) -> bool:
        return locked(user, form_error)


def init_app(app: Flask) -> None:
    """Plug the lockout into the user model's hooks and connect it to
    Flask-Security's success and reset signals."""
    app.extensions[LOCKOUT_HOOKS_KEY] = _Hooks()
    user_authenticated.connect(_on_user_authenticated, app)
    password_reset.connect(_on_password_reset, app)


def failed_authn(user, auth_type: str, tfa: bool) -> None:
    """Count a failed authentication of ``user`` (``User.track_failed_authn``)."""
    client = client_info()
    lockout.record_failure(
        user,
        method=auth_type,
        second_factor=tfa,
        ip=client.ip,
        user_agent=client.user_agent,
    )


def locked(user, form_error: list[str] | None) -> bool:
    """Return whether ``user`` may not sign in now (``User.is_locked``).

    The error added is the library's generic authentication failure, the very
    message a wrong password gets, so a lockout tells a guesser nothing (the views
    also fold both into one form-level message when
    ``SECURITY_RETURN_GENERIC_RESPONSES`` is on).
    """
    if has_request_context() and request.endpoint in RECOVERY_ENDPOINTS:
        return False
    client = client_info()
    if not lockout.refuse_if_locked(user, ip=client.ip, user_agent=client.user_agent):
        return False
    if form_error is not None:
        form_error.append(get_message("GENERIC_AUTHN_FAILED")[0])
    return True


def _on_user_authenticated(_app, user, **_extra) -> None:
    lockout.record_success(user)


def _on_password_reset(_app, user, **_extra) -> None:
    client = client_info()
    lockout.unlock(
        user,
        reason="password_reset",
        ip=client.ip,
        user_agent=client.user_agent,
        # The owner's reset undoes failed guesses, not an administrator's decision.
        lift_admin_lock=False,
    )
