"""Column types shared by Diary's own models."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores it as ``timestamptz``; SQLite has no time zones and returns
    naive values, which are marked as UTC on the way out. Naive values going in are
    refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Strength(enum.StrEnum):
    """How strongly a credential's sign-in proved who the user is.

    Stored with signed-in sessions and personal access tokens. Powers that need
    two-factor (``MFA_REQUIRED_ROLES``) are granted only to multi-factor
    credentials (:func:`diary.services.credentials.effective_permissions`).
    """

    PASSWORD = "password"
    MULTI_FACTOR = "multi-factor"


def dialect_insert(dialect_name: str):
    """Return the ``insert`` construct of ``dialect_name`` that knows
    ``ON CONFLICT … DO UPDATE`` (PostgreSQL's and SQLite's, the two Diary runs on).

    :raises NotImplementedError: for any other database.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    if dialect_name == "postgresql":
        return postgresql.insert
    if dialect_name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"upsert on {dialect_name}")
