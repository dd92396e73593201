"""Access receipts: nobody reads, edits or deletes another user's entry unseen.

An ``entry:*-any`` permission (an Admin's) reaches everybody's entries. Each time
it is used on somebody else's entry, :mod:`diary.services.entries` asks for a
reason and calls :func:`record`, which

- checks the reason (:func:`clean_reason`: one line, at most
  :data:`REASON_MAX_LENGTH` characters);
- writes one audit event per entry to the *owner's* log (``entry:access:read``,
  ``…:edit``, ``…:delete``; ``actor_id`` is who did it; the details hold the reason,
  the entry's id and the date it was written, never its content), which the owner
  sees on ``/account/activity`` (:func:`describe_events`);
- mails the owner a digest of such access at most once in :data:`DIGEST_INTERVAL`.

The digest works without a background worker: the first access after a quiet
day mails at once, listing every access not mailed before; accesses within the
next 24 hours are not mailed then but listed by the next digest, which the next
access after the 24 hours sends, or ``flask --app diary receipts send-digests``
(from cron) if there is none. Which events were mailed is kept per owner in
:class:`diary.models.AccessDigest` as the id of the newest event listed, so no
event is listed twice and none is skipped.

An owner's own entries never need a reason and record nothing.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from diary.extensions import db
from diary.models import AccessDigest, AuditEvent, Entry, User
from diary.services import audit, profile
from diary.services.audit import AuditTag

# Longest reason accepted, in characters.
REASON_MAX_LENGTH = 200
# An owner is mailed at most one digest in this long.
DIGEST_INTERVAL = timedelta(hours=24)
# Lines one digest lists at most (the newest); the rest are on the activity page.
DIGEST_MAX_LINES = 50
# The page where owners see every access (linked from the digest).
ACTIVITY_PATH = "/account/activity"


class AccessKind(enum.Enum):
    """What somebody did with another user's entry: its audit tag and its verb."""

    READ = (AuditTag.ENTRY_ACCESS_READ, "read")
    EDIT = (AuditTag.ENTRY_ACCESS_EDIT, "edited")
    DELETE = (AuditTag.ENTRY_ACCESS_DELETE, "deleted")

    @property
    def tag(self) -> AuditTag:
        return self.value[0]

    @property
    def verb(self) -> str:
        return self.value[1]


_BY_TAG = {str(kind.tag): kind for kind in AccessKind}
TAGS = frozenset(_BY_TAG)


@dataclass(frozen=True)
class Access:
    """Why, and from where, an actor reaches somebody else's entry."""

    reason: str | None = None
    ip: str | None = None
    user_agent: str | None = None


class InvalidReason(ValueError):
    """The reason is missing or breaks a rule; ``str(error)`` says which, for the user."""


def now() -> datetime:
    """Return the current time (UTC); tests replace it to move through days."""
    return datetime.now(timezone.utc)


def clean_reason(reason: str | None) -> str:
    """Return ``reason`` stripped of surrounding whitespace.

    :raises InvalidReason: if it is empty, longer than :data:`REASON_MAX_LENGTH`,
        or not one line of text (line breaks, other control characters, NUL or
        unpaired surrogates).
    """
    text = (reason or "").strip()
    if not text:
        raise InvalidReason("Say why you need this entry: the owner will see your reason.")
    if len(text) > REASON_MAX_LENGTH:
        raise InvalidReason(
            f"A reason can be at most {REASON_MAX_LENGTH} characters; this one has {len(text)}."
        )
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise InvalidReason("A reason is one line of text, without line breaks.")
    return text


def record(actor_id: int, kind: AccessKind, entries: Sequence[Entry], access: Access) -> None:
    """Record that ``actor_id`` did ``kind`` with ``entries`` (other users') for
    ``access.reason``; commit; then mail each owner whose digest is due.

    The commit includes whatever change the caller made in the session before (an
    edit, a deletion), so the change and its receipt are stored together or not at
    all. Call it before deleting an entry's row, or with the entry still loaded.

    :raises InvalidReason: see :func:`clean_reason`; nothing is recorded.
    """
    reason = clean_reason(access.reason)
    events = [
        audit.record_event(
            kind.tag,
            user=entry.user_id,
            actor=actor_id,
            ip=access.ip,
            user_agent=access.user_agent,
            details={
                "reason": reason,
                "entry_id": entry.id,
                "entry_date": _entry_date(entry).isoformat(),
            },
            commit=False,
        )
        for entry in entries
    ]
    if not events:
        return
    db.session.flush()  # the events' ids: a digest lists events up to its last one
    at = now()
    newest: dict[int, int] = {}
    for event in events:
        newest[event.user_id] = max(newest.get(event.user_id, 0), event.id)
    due = {}
    for owner_id, upto in sorted(newest.items()):
        after = _claim_digest(owner_id, at, upto)
        if after is not None:
            due[owner_id] = (after, upto)
    db.session.commit()
    for owner_id, (after, upto) in due.items():
        _mail_digest(owner_id, after, upto)


def send_due_digests() -> int:
    """Mail every owner whose digest is due and who has access not mailed yet
    (for cron: accesses within a day of a digest wait for the next one). Return
    how many digests were mailed."""
    at = now()
    rows = db.session.execute(
        select(AccessDigest.user_id, AccessDigest.last_event_id).where(
            AccessDigest.last_mailed_at <= at - DIGEST_INTERVAL
        )
    ).all()
    mailed = 0
    for owner_id, last_event_id in rows:
        upto = db.session.scalar(
            select(AuditEvent.id)
            .where(AuditEvent.user_id == owner_id, AuditEvent.tag.in_(TAGS))
            .where(AuditEvent.id > last_event_id)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        if upto is None:
            continue
        after = _claim_digest(owner_id, at, upto)
        db.session.commit()
        if after is not None:
            _mail_digest(owner_id, after, upto)
            mailed += 1
    return mailed


def _claim_digest(owner_id: int, at: datetime, upto: int) -> int | None:
    """Claim the right to mail ``owner_id``'s digest at ``at``, up to event ``upto``.

    Return the id of the last event mailed before (list the events after it), or
    None if a digest went out less than :data:`DIGEST_INTERVAL` ago. The claim is
    one conditional UPDATE (or the first INSERT), so of two requests at the same
    moment only one mails: the other's UPDATE matches no row once the first's is
    committed, or its INSERT hits the primary key.
    """
    previous = db.session.execute(
        select(AccessDigest.last_mailed_at, AccessDigest.last_event_id).where(
            AccessDigest.user_id == owner_id
        )
    ).first()
    if previous is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    AccessDigest(user_id=owner_id, last_mailed_at=at, last_event_id=upto)
                )
        except IntegrityError:
            return None
        return 0
    if previous.last_mailed_at > at - DIGEST_INTERVAL:
        return None
    result = db.session.execute(
        update(AccessDigest)
        .where(
            AccessDigest.user_id == owner_id,
            AccessDigest.last_mailed_at <= at - DIGEST_INTERVAL,
        )
        .values(last_mailed_at=at, last_event_id=upto)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return previous.last_event_id


def _mail_digest(owner_id: int, after: int, upto: int) -> None:
    """Mail ``owner_id`` the access events with ids in ``(after, upto]``."""
    from flask_security.utils import send_mail

    owner = db.session.get(User, owner_id)
    if owner is None:
        return
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.user_id == owner_id, AuditEvent.tag.in_(TAGS))
            .where(AuditEvent.id > after, AuditEvent.id <= upto)
            .order_by(AuditEvent.id)
        )
    )
    if not events:
        return
    shown = events[-DIGEST_MAX_LINES:]
    lines = describe_events(shown)
    send_mail(
        "Somebody opened your Diary entries",
        owner.email,
        "security/email/entry_access",
        user=owner,
        lines=[lines[event.id] for event in shown],
        more=len(events) - len(shown),
        activity_url=current_app.config["BASE_URL"].rstrip("/") + ACTIVITY_PATH,
        interval_hours=int(DIGEST_INTERVAL.total_seconds() // 3600),
    )


def describe_events(events: Iterable[AuditEvent]) -> dict[int, str]:
    """Return, for each access event among ``events``, by event id, how it reads
    for the owner: "admin@example.com read your entry of 3 May (reason: …)".
    Other events are left out."""
    access = [event for event in events if event.tag in TAGS]
    actor_ids = {event.actor_id for event in access if event.actor_id is not None}
    names = {}
    if actor_ids:
        for user in db.session.scalars(select(User).where(User.id.in_(actor_ids))):
            # The address, not the display name: a name is chosen freely and could
            # pass for somebody else; the owner must know who read their entry.
            names[user.id] = user.email
    return {
        event.id: describe(event, names.get(event.actor_id) or "Someone")
        for event in access
    }


def describe(event: AuditEvent, actor_name: str) -> str:
    """Return how one access event reads for the owner, with ``actor_name`` as who."""
    kind = _BY_TAG[event.tag]
    details = event.details or {}
    when = _say_date(details.get("entry_date"), event.created_at)
    return f"{actor_name} {kind.verb} your entry of {when} (reason: {details.get('reason', '')})"


def _entry_date(entry: Entry) -> date:
    """The entry's date as its owner sees it: in the owner's time zone."""
    return entry.created_at.astimezone(profile.zone(entry.author.time_zone)).date()


def _say_date(value: str | None, at: datetime | None) -> str:
    """Return an ISO date as people say it: "3 May", or "3 May 2025" in another
    year than ``at``'s."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return "an unknown date"
    if at is not None and at.year == day.year:
        return f"{day.day} {day:%B}"
    return f"{day.day} {day:%B %Y}"
