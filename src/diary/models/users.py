"""Accounts: Flask-Security's ``fsqla_v4`` models under the names it expects."""

from datetime import datetime

from flask_security.models import fsqla_v4 as fsqla
from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from diary.extensions import db
from diary.models.types import UTCDateTime

fsqla.FsModels.set_db_info(db)


class Role(db.Model, fsqla.FsRoleMixin):
    """A named set of permissions (``Role.permissions``), e.g. Writer or Admin."""

    __tablename__ = "role"


class User(db.Model, fsqla.FsUserMixin):
    """A person with an account. Email is the login identity."""

    __tablename__ = "user"

    @property
    def display_name(self) -> str:
        """Return the name to greet the user with: username if set, else email."""
        return self.username or self.email

    # --- Account lockout (issue 3): Flask-Security's hooks, rule in services.lockout
    def track_failed_authn(self, auth_type: str, tfa: bool = False) -> None:
        """Count a failed authentication towards the lockout, then let the library
        send its ``user_failed_authn`` signal as usual."""
        from diary.security import lockout

        lockout.failed_authn(self, auth_type, tfa)
        super().track_failed_authn(auth_type, tfa)

    def is_locked(self, form_error: list[str] | None = None) -> bool:
        """Return whether the account is locked out now (after failed sign-ins)."""
        from diary.security import lockout

        return lockout.locked(self, form_error)

    # --- Multi-factor authentication (issue 4) --------------------------------
    # The time step of the last authenticator/email code accepted: a code is
    # accepted once only (diary.security.totp.DiaryTotp), on every app instance.
    tf_totp_last_counter: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # When the current two-factor method (app or email) was switched on.
    tf_added_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the current set of recovery codes was generated.
    mf_recovery_codes_generated_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True
    )

    def has_permission(self, permission: str) -> bool:
        """Return whether the user holds ``permission`` right now.

        A member of a role listed in ``MFA_REQUIRED_ROLES`` who has no second factor
        is treated as holding only what the other roles grant, until one is set up
        (see :func:`diary.services.mfa.withheld_permissions`).
        """
        from diary.services import mfa

        if permission in mfa.withheld_permissions(self):
            return False
        return super().has_permission(permission)
    # --- end multi-factor authentication -------------------------------------


class WebAuthn(db.Model, fsqla.FsWebAuthnMixin):
    """A registered passkey / security key."""

    __tablename__ = "webauthn"


class FsRefreshTracker(db.Model, fsqla.FsRefreshTrackerMixin):
    """Refresh-token rotation bookkeeping for Flask-Security auth tokens."""

    __tablename__ = "fs_refresh"
