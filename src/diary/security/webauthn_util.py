"""Passkeys: Flask-Security's ``WebauthnUtil`` (``webauthn_util_cls``) and the
sign-in response form (``wan_signin_response_form``) as Diary needs them.

* The relying party (RP ID and origin) comes from the ``BASE_URL`` setting, never
  from the request's Host header. The library still verifies responses against
  ``request.host``; :mod:`diary.security.mfa_guards` refuses WebAuthn requests
  whose host is not ``BASE_URL``'s, so both always agree.
* Platform authenticators (phone, laptop fingerprint) and security keys are both
  welcome: the library asks for a cross-platform one when a passkey is meant for
  signing in, which refuses the passkeys most people have.
* A passkey used to sign in alone must verify the user (PIN, biometrics), so that
  sign-in is multi-factor by itself.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit

from flask import current_app, session
from flask_security import WebauthnUtil
from flask_security.proxies import _datastore
from flask_security.utils import get_message
from flask_security.webauthn import WebAuthnSigninResponseForm
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)


def rp_id() -> str:
    """Return the relying-party ID: ``BASE_URL``'s host name."""
    return urlsplit(current_app.config["BASE_URL"]).hostname or ""


def rp_origin() -> str:
    """Return the origin passkey responses must come from: ``BASE_URL``'s."""
    parts = urlsplit(current_app.config["BASE_URL"])
    return f"{parts.scheme}://{parts.netloc}"


class DiaryWebauthnUtil(WebauthnUtil):
    """Relying-party settings from ``BASE_URL``; any kind of authenticator."""

    def origin(self) -> str:
        """Return the expected origin of every WebAuthn response."""
        return rp_origin()

    def registration_options(self, user, usage: str, existing_options: dict) -> dict:
        """Return the registration options, with Diary's RP ID."""
        existing_options["rp_id"] = rp_id()
        return super().registration_options(user, usage, existing_options)

    def authentication_options(self, user, usage: list[str], existing_options: dict) -> dict:
        """Return the sign-in options, with Diary's RP ID."""
        existing_options["rp_id"] = rp_id()
        return super().authentication_options(user, usage, existing_options)

    def authenticator_selection(self, user, usage: str) -> AuthenticatorSelectionCriteria:
        """Any attachment (platform or cross-platform).

        A sign-in passkey must be discoverable (sign-in asks for no email first) and
        verify the user; a second-factor key needs neither, the user is known.
        """
        if usage == "first":
            return AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                require_resident_key=True,
                user_verification=UserVerificationRequirement.REQUIRED,
            )
        return AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.DISCOURAGED,
        )

    def user_verification(self, user, usage: list[str]) -> UserVerificationRequirement:
        """Signing in with a passkey alone requires user verification."""
        if "secondary" in usage:
            return UserVerificationRequirement.DISCOURAGED
        return UserVerificationRequirement.REQUIRED


class DiaryWebAuthnSigninResponseForm(WebAuthnSigninResponseForm):
    """The library's passkey sign-in response, stricter at the second-factor step.

    * A failed passkey at the second-factor step is reported to
      ``track_failed_authn`` with ``tfa=True`` (the library reports ``tfa=False``
      whatever the step), so lockout and rate limits count it as a second factor.
    * The passkey must belong to the user who gave the password. (The library would
      otherwise sign in the passkey's owner instead, harmless but confusing.)
    """

    def validate(self, **kwargs) -> bool:
        if not getattr(self, "is_secondary", False) or "tf_user_id" not in session:
            return super().validate(**kwargs)
        tf_user = _datastore.find_user(fs_uniquifier=session["tf_user_id"])
        if tf_user is None:
            return super().validate(**kwargs)
        # The library calls ``self.user.track_failed_authn("passkey")`` on the very
        # object the session's identity map holds for this user; shadow the method
        # on that object for the duration of this check to add ``tfa=True``.
        tf_user.track_failed_authn = partial(type(tf_user).track_failed_authn, tf_user, tfa=True)
        try:
            valid = super().validate(**kwargs)
        finally:
            del tf_user.track_failed_authn
        if valid and self.user is not None and self.user.id != tf_user.id:
            self.credential.errors.append(get_message("WEBAUTHN_MISMATCH_USER_HANDLE")[0])
            tf_user.track_failed_authn("passkey", True)
            return False
        return valid
