"""The admin console at ``/admin``: users, their accounts and roles (for
``user:manage``) and everybody's audit log (for ``audit:read``).

Views parse the request, call one function of :mod:`diary.services.admin` or
:mod:`diary.services.audit_log`, and render. Every view checks its permission
itself; the identity's permissions already apply the two-factor rule of the Admin
role (:func:`diary.services.credentials.effective_permissions`), so an Admin
without a second factor is sent to set one up. Every change is a POST with a CSRF
token, after a fresh sign-in (``SECURITY_FRESHNESS``), with a reason.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app
from flask_security import auth_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _freshness() -> timedelta:
    return current_app.config["SECURITY_FRESHNESS"]


def _grace() -> timedelta:
    return current_app.config["SECURITY_FRESHNESS_GRACE_PERIOD"]


# Signed in within SECURITY_FRESHNESS, else sent to /verify and back (as creating
# an access token is): a session left open must not be enough to act on accounts.
fresh_sign_in = auth_required(within=_freshness, grace=_grace)


from diary.admin import audit, views  # noqa: E402,F401  (routes register on import)
