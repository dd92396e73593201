"""Flask-Security's multi-factor signals, connected to :mod:`diary.services.mfa`.

* ``tf_profile_changed`` / ``tf_disabled``: an authenticator app or email codes
  switched on / off.
* ``wan_registered`` / ``wan_deleted``: a passkey added / deleted.
* ``user_failed_authn`` with ``tfa=True``: a wrong code, recovery code or passkey at
  the second-factor step. Flask-Security's ``UserMixin.track_failed_authn`` sends it;
  an override of that method (the lockout) must call ``super()`` to keep this.

When a user gets their first second factor, a set of recovery codes is generated
in the same request and the next page shows it once (see
:mod:`diary.web.factors`). When the last second factor goes, the codes go too:
there is nothing left for them to recover.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_security import (
    tf_disabled,
    tf_profile_changed,
    user_failed_authn,
    wan_deleted,
    wan_registered,
)
from flask_security.proxies import _datastore, _security
from flask_security.twofactor import is_tf_setup
from sqlalchemy import inspect

from diary.security import mfa_guards, recovery_codes
from diary.security.client import client_info
from diary.services import mfa


def init_app(app: Flask) -> None:
    """Connect the handlers for ``app``."""
    tf_profile_changed.connect(_on_tf_profile_changed, app)
    tf_disabled.connect(_on_tf_disabled, app)
    wan_registered.connect(_on_wan_registered, app)
    wan_deleted.connect(_on_wan_deleted, app)
    user_failed_authn.connect(_on_user_failed_authn, app)


def _on_tf_profile_changed(_app, user, method, **_extra) -> None:
    # Switching from one method to another replaces it; say which one went.
    previous = inspect(user).attrs.tf_primary_method.history.deleted
    replaced = previous[0] if previous and previous[0] != method else None
    mfa.method_added(user, method, client_info(), replaced=replaced)
    _first_second_factor(user)


def _on_tf_disabled(_app, user, **_extra) -> None:
    # tf_reset has just cleared the method; the change is not flushed yet, so the
    # attribute's history still holds what it was.
    previous = inspect(user).attrs.tf_primary_method.history.deleted
    mfa.method_removed(user, previous[0] if previous else None, client_info())
    if not mfa.has_second_factor(user):
        mfa.recovery_codes_discarded(user)


def _on_wan_registered(_app, user, name, **_extra) -> None:
    mfa.passkey_registered(user, name, client_info())
    _first_second_factor(user)


def _on_wan_deleted(_app, user, name, **_extra) -> None:
    # Sent just before the passkey is deleted: count what will remain.
    remains = is_tf_setup(user) or any(
        cred.usage == "secondary" and cred.name != name for cred in user.webauthn
    )
    mfa.passkey_deleted(user, name, client_info())
    if not remains:
        mfa.recovery_codes_discarded(user)


def _on_user_failed_authn(_app, user, auth_type, tfa=False, **_extra) -> None:
    if not tfa:
        return
    mfa.second_factor_failed(user, auth_type, client_info())
    mfa_guards.count_second_factor_failure(user)


def _first_second_factor(user) -> None:
    """Give ``user`` recovery codes with their first second factor."""
    if not current_app.config.get("SECURITY_MULTI_FACTOR_RECOVERY_CODES"):
        return
    if not mfa.has_second_factor(user):
        return
    if _datastore.mf_get_recovery_codes(user):
        return
    _security.mf_recovery_codes_util.create_recovery_codes(user)
    recovery_codes.grant_reveal(user)
