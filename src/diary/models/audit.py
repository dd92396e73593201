"""The security audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from diary.extensions import db
from diary.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """One security-relevant event: who it concerned, who did it, from where."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # One of diary.services.audit.AuditTag, e.g. "account:login:failure".
    tag: Mapped[str] = mapped_column(String(64), nullable=False)
    # The account the event concerns. Kept (as NULL) if the account is deleted.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), nullable=True
    )
    # Who did it, when that is somebody else (an admin, the CLI as NULL).
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), nullable=True
    )
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)
    details: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    __table_args__ = (
        # A user's own recent events (/account/activity).
        Index("ix_audit_event_user_id_created_at", "user_id", "created_at"),
        Index("ix_audit_event_tag_created_at", "tag", "created_at"),
    )
