"""Personal access tokens for the JSON API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from diary.extensions import db
from diary.models.types import UTCDateTime, utcnow
from diary.models.users import User


class ApiToken(db.Model):
    """One personal access token (``diary_pat_…``) of one user.

    The token itself is shown once, when it is created, and never stored: only its
    SHA-256 digest is (see :mod:`diary.services.tokens` for why a fast hash is the
    right one for a random secret). Revoked tokens keep their row, so that a later
    attempt with one is recorded as such in the audit log.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), nullable=False
    )
    # What the owner called it ("phone shortcut"), to tell tokens apart.
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # Hex SHA-256 of the whole token string; the only way to find a token.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # Space-separated scopes, e.g. "entries:read entries:write".
    scopes: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # None: never expires (the owner chose so).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The authentication strength of the session that made the token ("password"
    # or "multi-factor"): powers that need two-factor are never granted to a token
    # made without it, whatever the account sets up later.
    strength: Mapped[str] = mapped_column(
        String(16), nullable=False, default="password", server_default="password"
    )

    user: Mapped[User] = relationship(User)

    __table_args__ = (
        # A user's tokens, for the /account/tokens page and for revoking them all.
        Index("ix_api_token_user_id_revoked_at", "user_id", "revoked_at"),
    )

    @property
    def scope_set(self) -> frozenset[str]:
        """Return the scopes as a set."""
        return frozenset(self.scopes.split())

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} of user {self.user_id}>"
