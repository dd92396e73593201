"""Diary entries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from diary.extensions import db
from diary.models.types import UTCDateTime, utcnow
from diary.models.users import User


# Between the tags of Entry.tag_names: a tag never holds it (diary.services.tags).
TAG_NAMES_SEPARATOR = ","


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
    # The entry's #tags (diary.services.tags.sync keeps them in step with content).
    # A statement that loads entries without asking for their tags loads them in
    # one more query; the entries service asks for ``tag_names`` instead.
    tag_links: Mapped[list["EntryTag"]] = relationship(
        back_populates="entry",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
        order_by="EntryTag.tag",
    )
    # The same tags as one string, comma-separated in no particular order (None: no
    # tags), where the statement that loaded the entry selected them with it
    # (diary.services.tags.WITH_NAMES): no second query. Never written; expired
    # with the entry, like every loaded attribute.
    tag_names: Mapped[str | None] = query_expression()

    __table_args__ = (
        # The dashboard's query: one user's entries, newest first, keyset-paginated.
        Index("ix_entry_user_id_created_at_id", "user_id", "created_at", "id"),
        # Everyone's entries, newest first (users who may read any entry).
        Index("ix_entry_created_at_id", "created_at", "id"),
    )

    @property
    def tags(self) -> list[str]:
        """The entry's tags, sorted.

        From ``tag_links`` once they are loaded (or changed, by
        :func:`diary.services.tags.sync`), else from ``tag_names`` if the entry was
        loaded with them, else ``tag_links`` are loaded now.
        """
        loaded = self.__dict__
        if "tag_links" not in loaded and "tag_names" in loaded:
            names = loaded["tag_names"]
            return sorted(names.split(TAG_NAMES_SEPARATOR)) if names else []
        return [link.tag for link in self.tag_links]

    def __repr__(self) -> str:
        return f"<Entry {self.id} by user {self.user_id}>"


class EntryTag(db.Model):
    """One #tag of one entry. ``user_id`` is the entry's owner (entries never change
    owner), so a user's tags and their entries with a tag are found through one
    index without reading the entries."""

    __tablename__ = "entry_tag"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True
    )
    # Lower-case, at most diary.services.tags.TAG_MAX_LENGTH characters.
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), nullable=False
    )

    entry: Mapped[Entry] = relationship(back_populates="tag_links")

    __table_args__ = (
        # A user's tags with counts, and their entries with one tag.
        Index("ix_entry_tag_user_id_tag", "user_id", "tag", "entry_id"),
        # Everybody's entries with one tag.
        Index("ix_entry_tag_tag", "tag"),
    )

    def __repr__(self) -> str:
        return f"<EntryTag {self.tag!r} of entry {self.entry_id}>"


class EntryDayCount(db.Model):
    """How many entries one user has on one UTC day: the archive's month counts add
    these up instead of counting every entry (a 100,000-entry diary's archive read
    100,000 index entries on each view).

    Kept by the database itself, in the same transaction as every change of
    ``entry``: triggers of migration 0012 count each insert, delete and change of
    ``created_at`` or ``user_id`` (whatever makes it: a page, an import, a COPY, a
    user's deletion). Nothing in Python writes it. Days whose entries were all
    deleted keep a row with ``count`` 0.
    """

    __tablename__ = "entry_day_count"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    # The day in UTC of the entries' ``created_at``.
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)

    def __repr__(self) -> str:
        return f"<EntryDayCount user {self.user_id} {self.day}: {self.count}>"
