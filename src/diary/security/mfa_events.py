"""Flask-Security's multi-factor signals, connected to :mod:`diary.services.mfa`.

* ``tf_profile_changed`` / ``tf_disabled``: an authenticator app or email codes
  switched on / off.
* ``wan_registered`` / ``wan_deleted``: a passkey added / deleted.
* ``user_failed_authn`` with ``tfa=True``: a wrong code, recovery code or passkey at
  the second-factor step. Flask-Security's ``UserMixin.track_failed_authn`` sends it;
  an override of that method (the lockout) must call ``super()`` to keep this.

When a user gets their first second factor, a set of recovery codes is generated
in the same request and the next page shows it once (see
:mod:`diary.web.factors`); every other session and token of the account ends
(they were made without it), and the session that set it up becomes a
multi-factor one: setting up needs a fresh password check and a code from the new
factor (:mod:`diary.services.revocation`). When the last second factor goes, the codes go too:
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

from diary.security import identity, mfa_guards, recovery_codes
from diary.security.client import client_info
from diary.services import mfa, revocation, sessions


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
    first = not (previous and previous[0]) and not _secondary_passkeys(user)
    ended = _first_enrolment(user) if first else None
    mfa.method_added(user, method, client_info(), replaced=replaced, ended=ended)
    _first_second_factor(user)


def _on_tf_disabled(_app, user, **_extra) -> None:
    # tf_reset has just cleared the method; the change is not flushed yet, so the
    # attribute's history still holds what it was.
    previous = inspect(user).attrs.tf_primary_method.history.deleted
    mfa.method_removed(user, previous[0] if previous else None, client_info())
    if not mfa.has_second_factor(user):
        mfa.recovery_codes_discarded(user)


def _on_wan_registered(_app, user, name, **_extra) -> None:
    usage = next((c.usage for c in user.webauthn if c.name == name), None)
    first = (
        usage == "secondary"
        and not is_tf_setup(user)
        and not _secondary_passkeys(user, except_name=name)
    )
    ended = _first_enrolment(user) if first else None
    mfa.passkey_registered(user, name, client_info(), ended=ended)
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


def _secondary_passkeys(user, except_name: str | None = None) -> list:
    return [c for c in user.webauthn if c.usage == "secondary" and c.name != except_name]


def _first_enrolment(user):
    """The account's first second factor: the session that set it up is now a
    multi-factor one; every other session and token ends. Return what ended."""
    device = identity.current_device()
    keep = device.id if device is not None and device.user_id == user.id else None
    if device is not None and keep is not None:
        sessions.raise_strength(device)
    client = client_info()
    ended = revocation.end_credentials(
        user,
        revocation.Trigger.TWO_FACTOR_ENROLLED,
        keep_session=keep,
        ip=client.ip,
        user_agent=client.user_agent,
        commit=False,  # the library commits the new factor and all of this with it
    )
    if keep is not None:
        identity.keep_signed_in(user)
    return ended


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
