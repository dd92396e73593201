"""Diary entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from diary.extensions import db
from diary.models.types import UTCDateTime, utcnow
from diary.models.users import User


class Entry(db.Model):
    """One short diary entry, owned by one user."""

    __tablename__ = "entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), nullable=False
    )
    # Length is a setting (ENTRY_MAX_LENGTH), enforced by diary.services.entries.
    content: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    author: Mapped[User] = relationship(User)

    __table_args__ = (
        # The dashboard's query: one user's entries, newest first, keyset-paginated.
        Index("ix_entry_user_id_created_at_id", "user_id", "created_at", "id"),
        # Everyone's entries, newest first (users who may read any entry).
        Index("ix_entry_created_at_id", "created_at", "id"),
    )

    def __repr__(self) -> str:
        return f"<Entry {self.id} by user {self.user_id}>"
