"""The configured Flask-Security object: the library, with Diary's pluggable classes.

Flask-Security takes its utility classes at construction, not in ``init_app``, so
the object is built here, beside the classes, and bound to each app by
:mod:`diary.security.wiring`. (Built in ``diary.extensions`` it made a circle:
extensions → these classes → services → extensions.)
"""

from flask_security import Security

from diary.security.forms import (
    DiaryChangeEmailForm,
    DiaryChangePasswordForm,
    DiaryForgotPasswordForm,
    DiaryRefreshTokenForm,
    DiaryRegisterForm,
    DiaryResetPasswordForm,
    DiarySendConfirmationForm,
    DiaryTwoFactorVerifyCodeForm,
    DiaryVerifyForm,
)
from diary.security.login_form import DiaryLoginForm
from diary.security.mail_util import DiaryMailUtil
from diary.security.passwords import DiaryPasswordUtil
from diary.security.recovery_codes import DiaryMfRecoveryCodesUtil, DiaryMfRecoveryForm
from diary.security.totp import DiaryTotp
from diary.security.webauthn_util import DiaryWebAuthnSigninResponseForm, DiaryWebauthnUtil

security = Security(
    mail_util_cls=DiaryMailUtil,
    password_util_cls=DiaryPasswordUtil,
    login_form=DiaryLoginForm,
    # Every form that checks a password counts a wrong one (lockout, per-IP limit),
    # and the refresh token passes the one credential policy.
    change_password_form=DiaryChangePasswordForm,
    change_email_form=DiaryChangeEmailForm,
    refresh_token_form=DiaryRefreshTokenForm,
    # Registration may ask for a display name (optional).
    register_form=DiaryRegisterForm,
    # The rest of the forms Diary shows, labelled in Diary's words.
    forgot_password_form=DiaryForgotPasswordForm,
    reset_password_form=DiaryResetPasswordForm,
    send_confirmation_form=DiarySendConfirmationForm,
    verify_form=DiaryVerifyForm,
    two_factor_verify_code_form=DiaryTwoFactorVerifyCodeForm,
    # Multi-factor authentication (issue 4): replay-proof TOTP, audited recovery
    # codes, passkeys bound to BASE_URL.
    totp_cls=DiaryTotp,
    mf_recovery_codes_util_cls=DiaryMfRecoveryCodesUtil,
    mf_recovery_form=DiaryMfRecoveryForm,
    webauthn_util_cls=DiaryWebauthnUtil,
    wan_signin_response_form=DiaryWebAuthnSigninResponseForm,
)
