"""Diary's tables. Importing this package registers every model with SQLAlchemy."""

from diary.models.entries import Entry
from diary.models.users import FsRefreshTracker, Role, User, WebAuthn

__all__ = ["Entry", "FsRefreshTracker", "Role", "User", "WebAuthn"]
