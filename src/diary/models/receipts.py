"""Access receipts (issue 10): when each user was last mailed a digest of other
people's access to their entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from diary.extensions import db
from diary.models.types import UTCDateTime


class AccessDigest(db.Model):
    """The last access digest mailed to one user (no row: never mailed).

    The events themselves are audit events (``entry:access:*``); this row only
    says up to which of them the owner has been mailed, and when, so that they get
    at most one mail a day (:mod:`diary.services.receipts`).
    """

    __tablename__ = "access_digest"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    # When the last digest was mailed.
    last_mailed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # The id of the newest audit event that digest listed; later ones are the next's.
    last_event_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
