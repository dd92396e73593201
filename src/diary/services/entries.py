"""Diary entries: who may do what with which entry, and the content rules.

Every view of an entry goes through :func:`get_entry` (or, for a page that shows
one's own entry and asks why before somebody else's, :func:`entry_or_header`),
which holds the one ownership rule: what an actor may do with an entry is a
permission of their roles, like every other right: ``entry:read-own``,
``entry:edit-own`` and ``entry:delete-own`` for their own entries, the matching
``*-any`` permission for anybody's.

Somebody else's entry is reached with an ``*-any`` permission only for a reason
(:mod:`diary.services.receipts`): :func:`get_entry`, :func:`update_entry`,
:func:`delete_entry` and :func:`list_user_entries` take an
:class:`~diary.services.receipts.Access`, refuse without one with
:class:`ReasonRequired`, and record each use in the owner's audit log. An actor's
own entries need no reason and record nothing.

The acting party is an :class:`Actor`: the request's identity
(:class:`diary.services.credentials.Identity`), whose permissions are what its
credential may use, never simply what its roles hold.
"""

from __future__ import annotations

import base64
import binascii
import enum
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from flask import current_app
from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.orm import joinedload

from diary import permissions
from diary.extensions import db
from diary.models import Entry, EntryTag
from diary.models.types import utcnow
from diary.services import receipts, tags
from diary.services.receipts import Access


# Entry ids are 32-bit integers in every database (PostgreSQL's INTEGER); ids start at 1.
ENTRY_ID_MAX = 2**31 - 1


class Actor(Protocol):
    """Who acts: a user's id and what they may do (a request's identity)."""

    @property
    def id(self) -> int: ...

    def may(self, permission: str) -> bool: ...


class EntryError(Exception):
    """Base class of the errors raised here."""


class EntryNotFound(EntryError):
    """No entry has that id."""


class EntryAccessDenied(EntryError):
    """The entry exists, but the actor may not do this with it."""


class EntryInvalid(EntryError):
    """The content breaks a rule; ``str(error)`` says which, for the user. From
    :func:`update_entry`, ``entry`` is the header of the entry it was meant for
    (for the editor shown again); None otherwise."""

    entry: "EntryHeader | None" = None


class InvalidCursor(EntryError):
    """A pagination cursor that this module did not make."""


class EntryConflict(EntryError):
    """The entry changed after the version the actor based an edit on."""


@dataclass(frozen=True)
class EntryHeader:
    """What an entry is, without what it says: for pages that ask for a reason
    before they show somebody else's entry."""

    id: int
    user_id: int
    author_name: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, entry: Entry) -> "EntryHeader":
        return cls(entry.id, entry.user_id, entry.author.display_name,
                   entry.created_at, entry.updated_at)


class ReasonRequired(EntryError):
    """The entry is somebody else's: the actor may reach it, but only with a reason
    (missing or invalid: ``str(error)`` says which, for the user). ``entry`` is its
    header (None for a list of entries); nothing was recorded or changed."""

    def __init__(self, message: str, entry: EntryHeader | None = None):
        super().__init__(message)
        self.entry = entry


class Action(enum.Enum):
    """What an actor wants to do with an entry: the permission that allows it on
    their own entry, and the one that allows it on anybody's."""

    READ = (permissions.ENTRY_READ_OWN, permissions.ENTRY_READ_ANY)
    EDIT = (permissions.ENTRY_EDIT_OWN, permissions.ENTRY_EDIT_ANY)
    DELETE = (permissions.ENTRY_DELETE_OWN, permissions.ENTRY_DELETE_ANY)

    @property
    def own(self) -> str:
        """The permission for the actor's own entries."""
        return self.value[0]

    @property
    def any(self) -> str:
        """The permission for anybody's entries (the actor's own included)."""
        return self.value[1]

    def allowed(self, actor: Actor, owner_id: int) -> bool:
        """Return whether ``actor`` may do this with an entry of ``owner_id``."""
        if actor.may(self.any):
            return True
        return owner_id == actor.id and actor.may(self.own)


# The statements behind the entry lists, built once with bound parameters: building a
# statement and its cache key on every call cost more than running it
# (bench/dashboard). A search or a cursor adds its condition to a copy.
# Newest first, the id breaking ties: every list's order (the archive's too).
NEWEST_FIRST = (Entry.created_at.desc(), Entry.id.desc())
_PAGE_LIMIT = bindparam("page_limit")
# Every entry comes with its tags in the same statement (tags.WITH_NAMES).
_ENTRIES_OF_USER = (
    select(Entry)
    .options(*tags.WITH_NAMES)
    .where(Entry.user_id == bindparam("owner_id"))
    .order_by(*NEWEST_FIRST)
    .limit(_PAGE_LIMIT)
)
_ALL_ENTRIES = (
    select(Entry)
    .options(joinedload(Entry.author), *tags.WITH_NAMES)
    .order_by(*NEWEST_FIRST)
    .limit(_PAGE_LIMIT)
)


@dataclass(frozen=True)
class Page:
    """One page of entries, newest first; ``next_cursor`` (older entries) is None on
    the last page, ``prev_cursor`` (newer entries, pass it as ``after``) on the first."""

    entries: list[Entry]
    next_cursor: str | None
    prev_cursor: str | None = None


def max_length() -> int:
    """Return the longest entry accepted (setting ``ENTRY_MAX_LENGTH``)."""
    return int(current_app.config["ENTRY_MAX_LENGTH"])


def clean_content(content: str | None) -> str:
    """Return ``content`` with its line breaks as ``\\n`` and stripped of
    surrounding whitespace.

    Browsers send a textarea's line breaks as ``\\r\\n`` (HTML's form
    submission rule) while the page's character counter and ``maxlength`` count
    one character per line break: stored as sent, an entry the counter allowed
    would be refused as too long, and exports would carry ``\\r\\n``.

    :raises EntryInvalid: if it is empty or longer than :func:`max_length`.
    """
    text = (content or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not is_storable(text):
        raise EntryInvalid("An entry cannot contain NUL characters or unpaired surrogates.")
    if not text:
        raise EntryInvalid("Write something first: an entry cannot be empty.")
    limit = max_length()
    if len(text) > limit:
        raise EntryInvalid(
            f"An entry can be at most {limit} characters; this one has {len(text)}."
        )
    return text


def is_storable(text: str) -> bool:
    """Return whether every database can store ``text``: no NUL character (PostgreSQL
    refuses it) and valid UTF-8 (a JSON body can carry an unpaired surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def may(actor: Actor, action: Action, entry: Entry) -> bool:
    """Return whether ``actor`` may do ``action`` with ``entry``: the ownership rule."""
    return action.allowed(actor, entry.user_id)


def get_entry(
    actor: Actor, entry_id: int, action: Action = Action.READ, access: Access | None = None
) -> Entry:
    """Return the entry ``entry_id`` to show its content, if ``actor`` may do
    ``action`` with it (``Action.EDIT`` to open it in the editor).

    Somebody else's entry is shown only with a reason in ``access``, and showing
    it is recorded (``entry:access:read``) and committed.

    :raises EntryNotFound: no such entry.
    :raises EntryAccessDenied: it exists but belongs to somebody else and the actor
        lacks the permission for ``action``.
    :raises ReasonRequired: somebody else's entry without a valid reason.
    """
    entry = _allowed_entry(actor, entry_id, action)
    if entry.user_id != actor.id:
        receipts.record(actor.id, receipts.AccessKind.READ, [entry], _reasoned(entry, access))
    return entry


def entry_or_header(
    actor: Actor, entry_id: int, action: Action = Action.READ
) -> Entry | EntryHeader:
    """Return entry ``entry_id`` if ``actor`` may do ``action`` with it without a
    reason (it is theirs), else only its :class:`EntryHeader` (author, dates, not
    what it says), for the page that asks why; records nothing. One read of the
    entry.

    :raises EntryNotFound, EntryAccessDenied: see :func:`get_entry`.
    """
    entry = _allowed_entry(actor, entry_id, action)
    if needs_reason(actor, entry):
        return EntryHeader.of(entry)
    return entry


def needs_reason(actor: Actor, entry: Entry | EntryHeader) -> bool:
    """Return whether ``actor`` must give a reason to reach ``entry``: it is not theirs."""
    return entry.user_id != actor.id


def _allowed_entry(actor: Actor, entry_id: int, action: Action) -> Entry:
    entry = db.session.get(Entry, entry_id, options=tags.WITH_NAMES)
    if entry is None:
        raise EntryNotFound(entry_id)
    if not may(actor, action, entry):
        raise EntryAccessDenied(entry_id)
    return entry


def _reasoned(entry: Entry | None, access: Access | None) -> Access:
    """Return ``access`` with its reason cleaned.

    :raises ReasonRequired: no reason, or one that breaks a rule.
    """
    access = access or Access()
    try:
        reason = receipts.clean_reason(access.reason)
    except receipts.InvalidReason as exc:
        raise ReasonRequired(str(exc), EntryHeader.of(entry) if entry else None) from None
    return Access(reason, access.ip, access.user_agent)


def create_entry(author: Actor, content: str | None) -> Entry:
    """Store a new entry by ``author`` and return it.

    :raises EntryAccessDenied: the author lacks ``entry:create``.
    :raises EntryInvalid: see :func:`clean_content`; nothing is stored.
    """
    if not author.may(permissions.ENTRY_CREATE):
        raise EntryAccessDenied("create")
    entry = Entry(user_id=author.id, content=clean_content(content))
    tags.sync(entry)
    db.session.add(entry)
    db.session.commit()
    return entry


def update_entry(
    actor: Actor,
    entry_id: int,
    content: str | None,
    expected_updated_at: datetime | None = None,
    access: Access | None = None,
) -> Entry:
    """Replace the content of entry ``entry_id`` and return it.

    Somebody else's entry needs a reason in ``access``; the edit is recorded
    (``entry:access:edit``) in the same commit as the change.

    :param expected_updated_at: if given, the ``updated_at`` of the version the edit
        is based on; the edit is refused if the entry changed since (lost update).
    :raises EntryNotFound, EntryAccessDenied: see :func:`get_entry`.
    :raises ReasonRequired: somebody else's entry without a valid reason; nothing
        is changed.
    :raises EntryInvalid: see :func:`clean_content`; nothing is changed.
    :raises EntryConflict: the entry changed after ``expected_updated_at``.
    """
    entry = _allowed_entry(actor, entry_id, Action.EDIT)
    others = needs_reason(actor, entry)
    if others:
        access = _reasoned(entry, access)
    if expected_updated_at is not None and entry.updated_at != expected_updated_at:
        raise EntryConflict(entry_id)
    try:
        entry.content = clean_content(content)
    except EntryInvalid as exc:
        exc.entry = EntryHeader.of(entry)
        raise
    entry.updated_at = utcnow()
    tags.sync(entry)
    if others:
        receipts.record(actor.id, receipts.AccessKind.EDIT, [entry], access)
    else:
        db.session.commit()
    return entry


def delete_entry(actor: Actor, entry_id: int, access: Access | None = None) -> bool:
    """Delete entry ``entry_id``; return whether it was somebody else's (the page
    then goes back to everyone's entries rather than the actor's own).

    Somebody else's entry needs a reason in ``access``; the deletion is recorded
    (``entry:access:delete``, with the entry's id and date, not its content) in the
    same commit.

    :raises EntryNotFound, EntryAccessDenied: see :func:`get_entry`.
    :raises ReasonRequired: somebody else's entry without a valid reason; nothing
        is deleted.
    """
    entry = _allowed_entry(actor, entry_id, Action.DELETE)
    if needs_reason(actor, entry):
        access = _reasoned(entry, access)
        db.session.delete(entry)
        # The entry's id and date are still loaded; record() commits both.
        receipts.record(actor.id, receipts.AccessKind.DELETE, [entry], access)
        return True
    db.session.delete(entry)
    db.session.commit()
    return False


def list_own_entries(
    owner: Actor,
    cursor: str | None = None,
    limit: int | None = None,
    tag: str | None = None,
    *,
    after: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page:
    """Return one page of ``owner``'s entries, newest first; with ``tag``, only
    those tagged ``#tag`` (any case); with ``since``/``until``, only those written
    in ``[since, until)``. (Searching their words is
    :func:`diary.services.search.search`.)

    ``cursor`` (a page's ``next_cursor``) gives the older entries after it;
    ``after`` (a page's ``prev_cursor``) the newer ones before it, the same page
    that led there, so walking back and forth shows the same pages.

    Keyset pagination: the page after ``cursor`` is found through the
    ``(user_id, created_at, id)`` index, so page 1 costs the same at 10 entries or
    10,000, and no page ever loads more than ``limit + 1`` rows.

    :raises EntryAccessDenied: the owner may not read their own entries.
    :raises InvalidCursor: ``cursor`` was not made by this module.
    """
    if not Action.READ.allowed(owner, owner.id):
        raise EntryAccessDenied("own")
    return _page(
        _ENTRIES_OF_USER, {"owner_id": owner.id}, cursor, limit, tag,
        after=after, since=since, until=until,
    )


def list_user_entries(
    actor: Actor,
    user_id: int,
    cursor: str | None = None,
    limit: int | None = None,
    access: Access | None = None,
    tag: str | None = None,
    *,
    after: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page:
    """Return one page of user ``user_id``'s entries as :func:`list_own_entries` does.

    Their own need ``entry:read-own`` (or ``-any``); somebody else's need
    ``entry:read-any`` and a reason in ``access``, and each entry on the page is
    recorded as read (``entry:access:read``). An unknown ``user_id`` gives an empty
    page, so this is no way to probe for accounts.

    :raises EntryAccessDenied: without the permission.
    :raises ReasonRequired: somebody else's entries without a valid reason.
    :raises InvalidCursor: see :func:`list_own_entries`.
    """
    if not Action.READ.allowed(actor, user_id):
        raise EntryAccessDenied(f"user {user_id}")
    bounds = {"after": after, "since": since, "until": until}
    if user_id == actor.id:
        return _page(_ENTRIES_OF_USER, {"owner_id": user_id}, cursor, limit, tag, **bounds)
    access = _reasoned(None, access)
    page = _page(_ENTRIES_OF_USER, {"owner_id": user_id}, cursor, limit, tag, **bounds)
    receipts.record(actor.id, receipts.AccessKind.READ, page.entries, access)
    return page


def list_all_entries(
    actor: Actor, cursor: str | None = None, limit: int | None = None, *, after: str | None = None
) -> Page:
    """Return one page of everybody's entries, newest first, with their authors.

    For lists of who wrote what and when: the content of somebody else's entry is
    shown through :func:`get_entry`, which asks for a reason and records it.

    :raises EntryAccessDenied: the actor lacks ``entry:read-any``.
    :raises InvalidCursor: see :func:`list_own_entries`.
    """
    if not actor.may(permissions.ENTRY_READ_ANY):
        raise EntryAccessDenied("all")
    return _page(_ALL_ENTRIES, {}, cursor, limit, after=after)


def _page(
    query,
    params: dict,
    cursor: str | None,
    limit: int | None,
    tag: str | None = None,
    *,
    after: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page:
    """Run ``query`` (one of the statements above) with ``params`` for one page:
    older than ``cursor``, or else newer than ``after``, or else the newest."""
    limit = limit or per_page()
    if tag is not None:
        tag = tags.normalize(tag.removeprefix("#")) if is_storable(tag) else None
        if tag is None:
            return Page([], None)
        tagged = select(EntryTag.entry_id).where(EntryTag.tag == tag)
        if "owner_id" in params:
            # The (user_id, tag, entry_id) index: this user's entries with the tag.
            tagged = tagged.where(EntryTag.user_id == params["owner_id"])
        query = query.where(Entry.id.in_(tagged))
    filtered = query
    if since is not None:
        filtered = filtered.where(Entry.created_at >= since)
    if until is not None:
        filtered = filtered.where(Entry.created_at < until)
    bound = {**params, "page_limit": limit + 1}
    if cursor:
        position = decode_cursor(cursor)
        rows = list(db.session.scalars(
            filtered.where(tuple_(Entry.created_at, Entry.id) < position), bound
        ))
        more = len(rows) > limit
        rows = rows[:limit]
        # A cursor is the last entry of a newer page: that page is one step back.
        return Page(rows, encode_cursor(rows[-1]) if more else None,
                    encode_cursor(rows[0]) if rows else None)
    if after:
        position = decode_cursor(after)
        # The newer entries nearest to the cursor: oldest first, then turned round.
        newer = (
            filtered.where(tuple_(Entry.created_at, Entry.id) > position)
            .order_by(None)
            .order_by(Entry.created_at.asc(), Entry.id.asc())
        )
        rows = list(db.session.scalars(newer, bound))
        more = len(rows) > limit
        rows = rows[:limit][::-1]
        if more:
            return Page(rows, encode_cursor(rows[-1]), encode_cursor(rows[0]))
        if len(rows) == limit:
            return Page(rows, encode_cursor(rows[-1]))
        # Fewer than a page newer than the cursor: that is the newest page, shown
        # whole as the list shows it without a cursor.
    return page_of(list(db.session.scalars(filtered, bound)), limit)


def per_page() -> int:
    """Return how many entries a page shows (setting ``ENTRIES_PER_PAGE``)."""
    return int(current_app.config["ENTRIES_PER_PAGE"])


def page_of(rows: list[Entry], limit: int) -> Page:
    """Return the first page: ``rows`` are the newest ``limit + 1`` entries of a
    list (fewer if it has no more), newest first."""
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1]) if more else None)


def encode_cursor(entry: Entry) -> str:
    """Return an opaque cursor pointing just after ``entry`` in newest-first order."""
    raw = f"{entry.created_at.isoformat()}|{entry.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Return the ``(created_at, id)`` a cursor points after.

    Only values an entry can have come back, so that the query the cursor goes
    into cannot fail: an id the database's INTEGER holds (a longer one made
    PostgreSQL and SQLite refuse the query), a time inside the calendar in UTC.

    :raises InvalidCursor: for anything :func:`encode_cursor` did not produce.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, entry_id = raw.partition("|")
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            raise ValueError("naive")
        number = int(entry_id)
        if not 1 <= number <= ENTRY_ID_MAX:
            raise ValueError("no entry has this id")
        # Out of the calendar in UTC (year 1 at +01:00, say) raises OverflowError.
        return created_at.astimezone(timezone.utc), number
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise InvalidCursor(cursor) from exc
