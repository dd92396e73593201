"""Account lockout state: one small row per account that has failed to sign in.

Kept out of the ``user`` table on purpose: the row is written from its own
connection on every failed attempt (see :mod:`diary.services.lockout`), so it must
not share a row, and row locks, with the user's profile that the login request
itself may be updating.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from diary.extensions import db
from diary.models.types import UTCDateTime


class AccountLockout(db.Model):
    """Failed-authentication bookkeeping for one account.

    There is no row until the first failure; a success deletes nothing but sets
    ``failures`` and ``lockouts`` back to zero.
    """

    __tablename__ = "account_lockout"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    # Failed attempts since the last success (or unlock); counted even while locked.
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Lockouts since the last success; each one doubles the next wait.
    lockouts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Sign-in is refused until then; NULL or in the past means not locked.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the latest failure happened.
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
