"""Diary's tables. Importing this package registers every model with SQLAlchemy."""

from diary.models.audit import AuditEvent
from diary.models.entries import Entry, EntryDayCount, EntryTag
from diary.models.lockout import AccountLockout
from diary.models.receipts import AccessDigest
from diary.models.sessions import StoredSession, UserSession
from diary.models.tokens import ApiToken
from diary.models.users import FsRefreshTracker, Role, User, WebAuthn

__all__ = [
    "AccessDigest",
    "AccountLockout",
    "ApiToken",
    "AuditEvent",
    "Entry",
    "EntryDayCount",
    "EntryTag",
    "FsRefreshTracker",
    "Role",
    "StoredSession",
    "User",
    "UserSession",
    "WebAuthn",
]
