"""Diary's login form: Flask-Security's, with two additions."""

from __future__ import annotations

from flask import current_app
from flask_security import LoginForm
from markupsafe import Markup

from diary.security.forms import DiaryWords


class DiaryLoginForm(DiaryWords, LoginForm):
    """Flask-Security's login form (form and JSON login), in Diary's words, which also

    - records a POST for an identity that has no account as a failed sign-in
      without a user: the library calls no hook then, there being no user to call
      it on (failures of real accounts are recorded by the lockout code);
    - honours ``REMEMBER_ME``: when it is off the checkbox is not rendered and a
      posted ``remember`` is ignored.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not current_app.config["REMEMBER_ME"]:
            # The library's template renders this field unconditionally, so it
            # stays on the form but renders as nothing.
            self.remember.label.text = ""
            self.remember.widget = lambda field, **kw: Markup("")

    def validate(self, **kwargs) -> bool:
        if not current_app.config["REMEMBER_ME"]:
            self.remember.data = False
        valid = super().validate(**kwargs)
        if not valid and self.user is None and self.ifield is not None:
            # Services import the models, which import diary.extensions, which
            # imports this form: import at call time to keep that cycle open.
            from diary.security.client import client_info
            from diary.services import audit

            client = client_info()
            audit.record_event(
                audit.AuditTag.LOGIN_FAILURE,
                ip=client.ip,
                user_agent=client.user_agent,
                details={"method": "password", "reason": "unknown_identity"},
            )
        return valid
