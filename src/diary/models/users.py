"""Accounts: Flask-Security's ``fsqla_v4`` models under the names it expects."""

from flask_security.models import fsqla_v4 as fsqla

from diary.extensions import db

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


class WebAuthn(db.Model, fsqla.FsWebAuthnMixin):
    """A registered passkey / security key."""

    __tablename__ = "webauthn"


class FsRefreshTracker(db.Model, fsqla.FsRefreshTrackerMixin):
    """Refresh-token rotation bookkeeping for Flask-Security auth tokens."""

    __tablename__ = "fs_refresh"
