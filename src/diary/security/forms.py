"""Flask-Security forms that check a password or a token, with Diary's rules.

* **Change password** (``/change``) and **change email** (``/change-email``) check
  the current password. A wrong one counts as a failed sign-in, toward the
  account's lockout (``User.track_failed_authn``); their POSTs also share the
  per-IP sign-in budget (:mod:`diary.security.ratelimits`). The current password
  is checked last, once every other field is valid, so that an answer refusing
  the new password (or address) never tells whether the current one was right.
  (The library's change-password form checks it first; its change-email form asks
  for none, relying on a fresh sign-in alone.)
* **Register** (``/register``): the library's form, with an optional display
  name, checked by the same rule as on ``/account``
  (:func:`diary.services.profile.clean_name`).
* **Refresh token** (``/refresh-token``): the library verifies the token; its user
  then passes the one credential policy (:mod:`diary.services.credentials`), so a
  deactivated, unconfirmed or locked account gets no new auth token.
* **Diary's words** (:class:`DiaryWords`): every Flask-Security form Diary shows
  labels its fields and buttons as the rest of Diary does ("Log in", "Email
  address", "Remember me"), not in the library's Title Case. Without Flask-Babel
  the library's labels are plain strings fixed at import, so the supported way to
  change them is a form subclass (passed to ``Security`` in
  :mod:`diary.security.core`).
"""

from __future__ import annotations

from flask_security import (
    ChangePasswordForm,
    ForgotPasswordForm,
    RefreshTokenForm,
    ResetPasswordForm,
    SendConfirmationForm,
    TwoFactorVerifyCodeForm,
    VerifyForm,
    current_user,
)
from flask_security.change_email import ChangeEmailForm
from flask_security.forms import Form, RegisterFormV2, _default_field_labels
from flask_security.proxies import _security
from flask_security.utils import get_message, verify_password
from wtforms import PasswordField, StringField, ValidationError

from diary.security.client import client_info
from diary.services import profile

WRONG_PASSWORD_KEY = "INVALID_PASSWORD"

# Diary's words for the library's labels, by the library's key for each
# (flask_security.forms._default_field_labels): sentence case, plain verbs.
DIARY_LABELS = {
    "email": "Email address",
    "password": "Password",
    "remember_me": "Remember me",
    "login": "Log in",
    "register": "Register",
    "retype_password": "Confirm password",
    "new_password": "New password",
    "recover_password": "Send reset link",
    "send_confirmation": "Send the confirmation mail again",
    "reset_password": "Set new password",
    "change_password": "Change password",
    "verify_password": "Confirm it is you",
    "code": "Code",
    "submitcode": "Check code",
    "sendcode": "Send code",
}
_RELABEL = {str(_default_field_labels[key]): words for key, words in DIARY_LABELS.items()}
# Labels the library writes out in a form itself rather than in that table.
_RELABEL["Recovery Code"] = "Recovery code"


class DiaryWords:
    """Mixin for a Flask-Security form: relabel its fields and buttons in Diary's
    words (:data:`DIARY_LABELS`); a button's label is its text. Put it first in the
    bases, so that it runs after the library's ``__init__``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:
            words = _RELABEL.get(str(field.label.text))
            if words is not None:
                field.label.text = words


class DiaryForgotPasswordForm(DiaryWords, ForgotPasswordForm):
    """The library's "forgot password" form (``/reset``), in Diary's words."""


class DiaryResetPasswordForm(DiaryWords, ResetPasswordForm):
    """The library's "choose a new password" form, in Diary's words."""


class DiarySendConfirmationForm(DiaryWords, SendConfirmationForm):
    """The library's confirmation resend form (``/confirm``), in Diary's words."""


class DiaryVerifyForm(DiaryWords, VerifyForm):
    """The library's "confirm it is you" form (``/verify``), in Diary's words."""


class DiaryTwoFactorVerifyCodeForm(DiaryWords, TwoFactorVerifyCodeForm):
    """The library's second-factor code form, in Diary's words."""


def check_current_password(field) -> bool:
    """Return whether ``field`` holds the signed-in user's current password; count
    a wrong one as a failed sign-in and put the library's message on the field."""
    password = _security.password_util.normalize(field.data or "")
    if verify_password(password, current_user.password):
        return True
    current_user.track_failed_authn("password")
    field.errors.append(get_message(WRONG_PASSWORD_KEY)[0])
    return False


class DiaryChangePasswordForm(DiaryWords, ChangePasswordForm):
    """The library's change-password form, current password checked last and
    counted when wrong."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.password.label.text = "Current password"

    def validate(self, **kwargs) -> bool:
        # The fields' own validators (required, the confirmation matching), without
        # the library's checks, which verify the current password first.
        if not Form.validate(self, **kwargs):
            return False
        has_password = bool(current_user.password)
        if has_password and not (self.password.data or "").strip():
            self.password.errors.append(get_message("PASSWORD_NOT_PROVIDED")[0])
            return False
        problems, self.new_password.data = _security.password_util.validate(
            self.new_password.data, False, user=current_user
        )
        if problems:
            self.new_password.errors.extend(problems)
            return False
        if has_password:
            if not check_current_password(self.password):
                return False
            if _security.password_util.normalize(self.password.data) == self.new_password.data:
                self.password.errors.append(get_message("PASSWORD_IS_THE_SAME")[0])
                return False
        return True


class DiaryChangeEmailForm(DiaryWords, ChangeEmailForm):
    """The library's change-email form, which also asks for the current password
    (checked once the new address is valid, counted when wrong)."""

    password = PasswordField(
        "Current password", render_kw={"autocomplete": "current-password"}
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.email.label.text = "New email address"
        self.submit.label.text = "Send confirmation link"

    def validate(self, **kwargs) -> bool:
        valid = super().validate(**kwargs)
        if self.email.errors or not current_user.password:
            # An address refused (or, silently, one that is taken: the view makes
            # that look like success) is answered without looking at the password.
            return valid
        if not (self.password.data or "").strip():
            self.password.errors.append(get_message("PASSWORD_NOT_PROVIDED")[0])
            return False
        return check_current_password(self.password) and valid


class DiaryRegisterForm(DiaryWords, RegisterFormV2):
    """The library's registration form, in Diary's words, with an optional display
    name (the
    library passes every field named like a ``User`` attribute to
    ``create_user``: ``name`` is one)."""

    name = StringField(
        "Your name (optional)",
        render_kw={"autocomplete": "name", "maxlength": profile.NAME_MAX_LENGTH},
    )

    def validate_name(self, field) -> None:
        try:
            field.data = profile.clean_name(field.data)
        except profile.ProfileInvalid as exc:
            raise ValidationError(str(exc)) from None


class DiaryRefreshTokenForm(RefreshTokenForm):
    """The library's refresh-token form; the token's user must pass the policy."""

    def validate(self, **kwargs) -> bool:
        if not super().validate(**kwargs):
            return False
        from diary.services import credentials

        client = client_info()
        try:
            credentials.from_refresh_token(self.user, ip=client.ip, user_agent=client.user_agent)
        except credentials.Refused as refused:
            reason = (
                "the account is temporarily locked"
                if refused.reason == credentials.Reason.LOCKED
                else "INVALID"
            )
            self.refresh_token.errors.append(
                get_message("REFRESH_TOKEN_INVALID", reason=reason)[0]
            )
            return False
        return True
