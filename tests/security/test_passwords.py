"""diary.security.passwords: Flask-Security's password checks go through Diary's policy."""

from __future__ import annotations

from types import SimpleNamespace

from diary.security.core import security
from diary.security.passwords import DiaryPasswordUtil


def test_the_library_uses_diarys_password_util(app):
    with app.app_context():
        assert isinstance(security.password_util, DiaryPasswordUtil)


def test_registration_judges_with_the_form_email(app):
    with app.app_context():
        util = security.password_util
        problems, normalized = util.validate("alicesmith2026", True, email="alice.smith@ex.org")
        assert problems and "email address" in problems[0]
        assert util.validate("lantern orbit quietly mango", True, email="a@ex.org") == (
            None, "lantern orbit quietly mango")


def test_change_and_reset_judge_with_the_users_email_and_username(app):
    user = SimpleNamespace(email="carol.jones@example.org", username="cjones")
    with app.app_context():
        util = security.password_util
        assert util.validate("carol.jones@example.org", False, user=user)[0]
        assert util.validate("cjones12345678", False, user=user)[0]
        stranger = SimpleNamespace(email="zz@zz.io", username=None)
        assert util.validate("cjones12345678", False, user=stranger)[0] is None
        assert util.validate("lantern orbit quietly mango", False, user=user)[0] is None


def test_the_password_is_normalized_before_it_is_judged(app):
    with app.app_context():
        # "ﬁ" (one character) becomes "fi" under NFKD: counted and hashed as two.
        problems, normalized = security.password_util.validate(
            "ﬁreﬂy orbit quietly mango", True, email="a@ex.org")
        assert normalized == "firefly orbit quietly mango" and problems is None
