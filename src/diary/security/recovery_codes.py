"""Recovery codes: Flask-Security's utility (``mf_recovery_codes_util_cls``) and
form (``mf_recovery_form``) with Diary's audit events and failure counting.

The library encrypts the codes with ``SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS``
(Fernet), shows them when generated and deletes each one when used. It has no
signal for either event and does not report a wrong recovery code to
``track_failed_authn``; these subclasses add exactly that.
"""

from __future__ import annotations

from flask import session
from flask_security import MfRecoveryCodesUtil
from flask_security.proxies import _datastore
from flask_security.recovery_codes import MfRecoveryForm

from diary.security.client import client_info
from diary.security.forms import DiaryWords

# Where the one-time permission to show freshly generated codes is kept (the codes
# themselves never go into the cookie session).
REVEAL_KEY = "mfa_reveal_codes"


class DiaryMfRecoveryCodesUtil(MfRecoveryCodesUtil):
    """Recovery codes that leave an audit trail and are used under a row lock."""

    def create_recovery_codes(self, user) -> list[str]:
        """Replace ``user``'s codes with a new set and return it (plain text)."""
        from diary.services import mfa

        replaced = bool(_datastore.mf_get_recovery_codes(user))
        codes = super().create_recovery_codes(user)
        mfa.recovery_codes_generated(user, replaced, client_info())
        return codes

    def check_recovery_code(self, user, code: str) -> bool:
        """Return whether ``code`` is one of ``user``'s unused codes.

        The user's row is re-read under ``SELECT … FOR NO KEY UPDATE`` (PostgreSQL),
        held until the request commits the code's deletion: a second request with
        the same code waits, then finds it gone. (SQLite runs one writer at a time.)
        Not ``FOR UPDATE``: a wrong code is counted toward the lockout on a separate
        connection whose insert references this row, and its foreign-key check
        (``FOR KEY SHARE``) would wait for this very request: a deadlock no
        database can see. ``NO KEY UPDATE`` still excludes the second request.
        """
        from sqlalchemy import select

        from diary.extensions import db
        from diary.models import User

        db.session.execute(
            select(User.id).where(User.id == user.id).with_for_update(key_share=True)
        )
        # Read the codes again now that the lock is held (a new statement sees what
        # the request before us committed).
        db.session.refresh(user, attribute_names=["mf_recovery_codes"])
        return super().check_recovery_code(user, code)

    def delete_recovery_code(self, user, code: str) -> bool:
        """Use up ``code``: delete it and record the event."""
        from diary.services import mfa

        deleted = super().delete_recovery_code(user, code)
        if deleted:
            remaining = len(_datastore.mf_get_recovery_codes(user))
            mfa.recovery_code_used(user, remaining, client_info())
        return deleted


class DiaryMfRecoveryForm(DiaryWords, MfRecoveryForm):
    """The /mf-recovery form: forgiving about case and spaces, strict about counting.

    A wrong code is reported to ``track_failed_authn`` as a failed second factor, like
    a wrong authenticator code, so it counts toward the lockout and the rate limit.
    """

    def validate(self, **kwargs) -> bool:
        if self.code.data:
            self.code.data = "".join(self.code.data.split()).lower()
        if super().validate(**kwargs):
            return True
        if self.code.data and self.user is not None:
            self.user.track_failed_authn("recovery_code", True)
        return False


def grant_reveal(user) -> None:
    """Let ``user`` see their freshly generated codes once, on the next page."""
    session[REVEAL_KEY] = user.fs_uniquifier


def take_reveal(user) -> bool:
    """Return whether ``user`` may see their codes now, using the permission up."""
    return session.pop(REVEAL_KEY, None) == user.fs_uniquifier
