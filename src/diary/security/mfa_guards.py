"""Request guards of multi-factor authentication.

* The second-factor step is rate limited per user (``MFA_RATELIMIT``, default
  5 per 5 minutes) in the shared Flask-Limiter storage: each failure counts (see
  :func:`count_second_factor_failure`), every attempt is checked first, and each
  request for an emailed code counts too.
* A sign-in halfway through (password done, second factor not yet) ends when the
  account is locked meanwhile: Flask-Security asks ``is_locked()`` after the
  password, not again at the second-factor step (``/tf-validate``,
  ``/mf-recovery``, a passkey as second factor), so a lock reached by failures
  there, or elsewhere, would otherwise not stop the attempt in progress.
* WebAuthn requests must arrive at ``BASE_URL``'s host: Flask-Security checks
  responses against the Host header, Diary's relying party is ``BASE_URL``.
* Recovery codes are shown once, when generated: the library's "show my codes"
  (GET ``/mf-recovery-codes?show_codes``) is switched off.
* Pages that show a secret (the authenticator key and QR code, recovery codes) are
  never stored by the browser or a proxy (``Cache-Control: no-store``).

The required-roles policy itself (what an identity may do without a second
factor) is :func:`diary.services.credentials.effective_permissions`, applied to
every request by :mod:`diary.security.identity`.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, session
from flask_login import current_user
from flask_security.proxies import _security
from flask_security.tf_plugin import tf_clean_session
from flask_security.utils import (
    get_message,
    is_user_authenticated,
    json_error_response,
    url_for_security,
)
from limits import parse

from diary.extensions import limiter
from diary.security.core import security
from diary.security.client import client_info
from diary.security.webauthn_util import rp_id
from diary.services import lockout, ratelimits

# Endpoints a user reaches after the password, before the second factor.
SECOND_FACTOR_ENDPOINTS = frozenset(
    {
        "security.two_factor_token_validation",
        "security.two_factor_rescue",
        "security.tf_select",
        "security.mf_recovery",
        "security.wan_signin",
        "security.wan_signin_response",
    }
)
WEBAUTHN_ENDPOINTS = frozenset(
    {
        "security.wan_register",
        "security.wan_register_response",
        "security.wan_signin",
        "security.wan_signin_response",
        "security.wan_verify",
        "security.wan_verify_response",
        "security.wan_delete",
    }
)
# Pages that show an authenticator key or recovery codes.
SECRET_PAGES = frozenset(
    {"security.two_factor_setup", "security.mf_recovery_codes", "web.factor_added"}
)
LIMIT_NAMESPACE = "2fa.user"


def _limit_item():
    from flask import current_app

    return parse(current_app.config["MFA_RATELIMIT"])


def _limiting() -> bool:
    return bool(limiter.enabled and limiter.initialized)


def count_second_factor_failure(user) -> None:
    """Count one failed second-factor attempt of ``user`` against the limit."""
    if _limiting():
        ratelimits.guarded(
            lambda: limiter.limiter.hit(_limit_item(), LIMIT_NAMESPACE, user.fs_uniquifier),
            sign_in=True, fallback=True,
        )


def second_factor_allowed(fs_uniquifier: str) -> bool:
    """Return whether the user may try a second factor now."""
    if not _limiting():
        return True
    return ratelimits.guarded(
        lambda: limiter.limiter.test(_limit_item(), LIMIT_NAMESPACE, fs_uniquifier),
        sign_in=True, fallback=True,
    )


def limit_second_factor():
    """Rate-limit the second-factor step per user; end it if the account got locked."""
    if request.method != "POST" or request.endpoint not in SECOND_FACTOR_ENDPOINTS:
        return None
    uid = session.get("tf_user_id")
    if not uid or is_user_authenticated(current_user):
        return None
    if _locked_meanwhile(uid):
        return _end_sign_in()
    if request.endpoint == "security.two_factor_rescue":
        # Each rescue request may send a mail: it counts whatever its outcome.
        if _limiting() and not ratelimits.guarded(
            lambda: limiter.limiter.hit(_limit_item(), LIMIT_NAMESPACE, uid),
            sign_in=True, fallback=True,
        ):
            abort(429)
        return None
    if not second_factor_allowed(uid):
        abort(429)
    return None


def _locked_meanwhile(fs_uniquifier: str) -> bool:
    user = security.datastore.find_user(fs_uniquifier=fs_uniquifier)
    if user is None:
        return False  # the library refuses a sign-in state without its user
    client = client_info()
    return lockout.refuse_if_locked(user, ip=client.ip, user_agent=client.user_agent)


def _end_sign_in():
    """Forget the half-done sign-in and answer as a failed sign-in does: the
    library's generic message, back to the login form (400 for JSON)."""
    tf_clean_session()
    message = get_message("GENERIC_AUTHN_FAILED")[0]
    if _security._want_json(request):
        return _security._render_json(json_error_response(errors=message), 400, None, None)
    flash(message, "error")
    return redirect(url_for_security("login"))


def require_rp_host():
    """Refuse WebAuthn requests that do not come to BASE_URL's host."""
    if request.endpoint in WEBAUTHN_ENDPOINTS and request.host.split(":")[0] != rp_id():
        abort(400, "Passkeys work only at this site's own address.")
    return None


def show_codes_once():
    """Refuse to show recovery codes again (only when generated)."""
    if request.endpoint != "security.mf_recovery_codes" or request.method != "GET":
        return None
    if _security._want_json(request):
        abort(403, "Recovery codes are shown only when they are generated.")
    if "show_codes" in request.args:
        return redirect(request.path)
    return None


def no_store_secrets(response):
    """Keep pages that show a secret out of every cache."""
    if request.endpoint in SECRET_PAGES:
        response.headers["Cache-Control"] = "no-store"
    return response
