"""Accounts: Flask-Security's ``fsqla_v4`` models under the names it expects."""

from datetime import datetime
from typing import Protocol

from flask import current_app
from flask_security.models import fsqla_v4 as fsqla
from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, contains_eager, mapped_column

from diary.extensions import db
from diary.models.types import UTCDateTime

fsqla.FsModels.set_db_info(db)

# Flask-Security's association table of users and roles has no index of its own:
# every signed-in request (session, personal access token, auth token) loads its
# user's roles through it, which read the whole table (migration 0013).
Index("ix_roles_users_user_id_role_id", fsqla.FsModels.roles_users.c.user_id,
      fsqla.FsModels.roles_users.c.role_id)

# Where the security package registers its account-lockout hooks on the app
# (models depend on nothing above them; the security package plugs into them).
LOCKOUT_HOOKS_KEY = "diary.lockout_hooks"


class LockoutHooks(Protocol):
    """What Flask-Security's two account hooks delegate to (see
    :mod:`diary.security.lockout`)."""

    def failed(self, user: "User", auth_type: str, tfa: bool) -> None: ...

    def locked(self, user: "User", form_error: list[str] | None) -> bool: ...


def _lockout_hooks() -> LockoutHooks:
    hooks = current_app.extensions.get(LOCKOUT_HOOKS_KEY)
    if hooks is None:
        # Fail closed: an app without the lockout would let guesses through.
        raise RuntimeError("account lockout is not wired (diary.security.lockout.init_app)")
    return hooks


class Role(db.Model, fsqla.FsRoleMixin):
    """A named set of permissions (``Role.permissions``), e.g. Writer or Admin."""

    __tablename__ = "role"


class User(db.Model, fsqla.FsUserMixin):
    """A person with an account. Email is the login identity."""

    __tablename__ = "user"

    # --- Account self-service (issue 10): set on /account ---------------------
    # The name to greet the user by; None: the email address is used instead.
    # Checked by diary.services.profile (trimmed, at most 80 characters, no
    # control characters).
    name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # An IANA time zone name ("Europe/Paris"); pages show dates in it.
    time_zone: Mapped[str] = mapped_column(
        String(64), nullable=False, default="UTC", server_default="UTC"
    )

    @property
    def display_name(self) -> str:
        """Return the name to greet the user with: their display name if set,
        else the username (demo accounts), else the email address."""
        return self.name or self.username or self.email

    # --- Account lockout (issue 3): Flask-Security's hooks, rule in services.lockout
    def track_failed_authn(self, auth_type: str, tfa: bool = False) -> None:
        """Count a failed authentication towards the lockout, then let the library
        send its ``user_failed_authn`` signal as usual."""
        _lockout_hooks().failed(self, auth_type, tfa)
        super().track_failed_authn(auth_type, tfa)

    def is_locked(self, form_error: list[str] | None = None) -> bool:
        """Return whether the account is locked out now (after failed sign-ins)."""
        return _lockout_hooks().locked(self, form_error)

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

    # --- end multi-factor authentication -------------------------------------


def with_roles(statement, path=None):
    """Return ``statement`` (a select that joins :class:`User`) also loading the
    user's roles, through two flat LEFT OUTER JOINs over ``roles_users``.

    ``joinedload(User.roles)`` writes ``LEFT OUTER JOIN (roles_users JOIN role)``
    instead, which SQLite runs by building the whole join of every account's roles
    and scanning it, on every signed-in request (0.1 ms with a few accounts, more
    with each one). The caller must ``.unique()`` the result (one row per role).

    :param path: the loader option that reaches ``User`` from the statement's
        first entity (``contains_eager(ApiToken.user)``); None when it is ``User``.
    """
    link = fsqla.FsModels.roles_users
    return (
        statement.outerjoin(link, link.c.user_id == User.id)
        .outerjoin(Role, Role.id == link.c.role_id)
        .options(contains_eager(User.roles) if path is None else path.contains_eager(User.roles))
    )


class WebAuthn(db.Model, fsqla.FsWebAuthnMixin):
    """A registered passkey / security key."""

    __tablename__ = "webauthn"


# Passkeys are found by their user (the account page, an auth token's strength,
# the second-factor check): Flask-Security's table has no index for it (0013).
Index("ix_webauthn_user_id", WebAuthn.__table__.c.user_id)


class FsRefreshTracker(db.Model, fsqla.FsRefreshTrackerMixin):
    """Refresh-token rotation bookkeeping for Flask-Security auth tokens."""

    __tablename__ = "fs_refresh"
