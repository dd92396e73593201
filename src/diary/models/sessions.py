"""Signed-in sessions: one row per browser a user signed in on, and the server-side
session store's own table.

``UserSession`` is the server's record of a sign-in: when and how it happened,
when the browser was last seen, and, if the user ticked "remember me", the digest
of the remember-me secret and when it runs out. The session cookie carries only a
random session id; the session's data lives in the store (``StoredSession`` here,
or Redis), and the row here is what every request is checked against
(:mod:`diary.services.credentials`): deleting it signs that browser out at once,
whatever cookies it still holds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from diary.extensions import db
from diary.models.types import UTCDateTime


class UserSession(db.Model):
    """One signed-in browser ("device") of one user."""

    __tablename__ = "user_session"

    # Random and unguessable, but not a secret: it names the row in "sign out this
    # device" forms, which only ever act on the signed-in user's own rows.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), nullable=False
    )
    # When the user signed in on this browser (with a password, passkey …).
    signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # When the current session began: the sign-in, or the latest "remember me"
    # sign-in. The absolute lifetime counts from here.
    session_started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # The latest request (to the minute). The idle timeout counts from here.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Where the sign-in came from, and where the latest request came from.
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # "multi-factor" when the sign-in passed a second factor (or a passkey),
    # else "password". Powers that need two-factor need a multi-factor session.
    strength: Mapped[str] = mapped_column(String(16), nullable=False)
    # How the user signed in, as Flask-Security names it: "password authenticator".
    methods: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    # The session store's key of the live session (a digest of the session id,
    # never the id itself); NULL once that session has ended.
    store_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # "Remember me": SHA-256 of the secret in the remember-me cookie, and when it
    # runs out. NULL when the user did not ask to be remembered.
    remember_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remember_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_user_session_user_id", "user_id"),)

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"


class StoredSession(db.Model):
    """One server-side session's data (Flask-Session's store on the database).

    Keyed by a digest of the session id, so that a copy of this table gives nobody
    a cookie that works (:mod:`diary.security.session_store`).
    """

    __tablename__ = "session_store"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (Index("ix_session_store_expires_at", "expires_at"),)
