"""Email address checks for Flask-Security."""

from __future__ import annotations

import email_validator
from flask import current_app
from flask_security import MailUtil
from flask_security.mail_util import EmailValidateException
from flask_security.utils import get_message


class DiaryMailUtil(MailUtil):
    """Flask-Security's mail utility with an email check that works offline.

    The library's ``validate`` passes ``SECURITY_EMAIL_VALIDATOR_ARGS`` to
    ``email_validator``, which looks the domain up in DNS unless told not to, and so
    refuses every address on a machine without DNS. Its ``normalize`` also switches
    ``check_deliverability`` off inside that shared dict, so the setting cannot be
    trusted to stay as configured. Here the DNS lookup is decided on each call by
    Diary's own setting ``EMAIL_CHECK_DELIVERABILITY`` (default off: syntax only).
    """

    def validate(self, email: str) -> str:
        """Return the normalized ``email``.

        :raises ValueError: (``EmailValidateException``) if it is not a valid address.
        """
        args = dict(current_app.config.get("SECURITY_EMAIL_VALIDATOR_ARGS") or {})
        args["check_deliverability"] = bool(
            current_app.config.get("EMAIL_CHECK_DELIVERABILITY")
        )
        try:
            return email_validator.validate_email(email, **args).normalized
        except ValueError:
            raise EmailValidateException(get_message("INVALID_EMAIL_ADDRESS")[0])
