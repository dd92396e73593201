"""The pages between Flask-Security's multi-factor views and the account page.

``/account/factors/added`` is where setting up a method or registering a passkey
lands (``SECURITY_TWO_FACTOR_POST_SETUP_VIEW``, ``SECURITY_WAN_POST_REGISTER_VIEW``):
it shows the recovery codes generated with a first second factor, once, and
otherwise goes on to ``/account``.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, url_for
from flask_security import auth_required, current_user
from flask_security.proxies import _security

from diary.database import reads_only
from diary.security import recovery_codes
from diary.services import mfa
from diary.web import bp


@bp.get("/account/factors/added")
@reads_only
@auth_required()
def factor_added():
    """Show freshly generated recovery codes once; else go to the account page.

    Showing uses up a one-time permission kept in the session, the way a flashed
    message is used up; the codes themselves are never put in the session.
    """
    if not recovery_codes.take_reveal(current_user):
        return redirect(url_for("web.account"))
    codes = _security.mf_recovery_codes_util.get_recovery_codes(current_user)
    return render_template("account/recovery_codes.html", recovery_codes=codes, first=True)


@bp.app_template_global("mfa_factors")
def mfa_factors(user):
    """Return the user's factor overview (for ``account/_factors.html``)."""
    return mfa.factor_overview(user)


@bp.app_template_global("mfa_freshness_minutes")
def mfa_freshness_minutes() -> int:
    """Return how recent a sign-in must be for factor changes, in minutes."""
    return int(current_app.config["SECURITY_FRESHNESS"].total_seconds() // 60)
