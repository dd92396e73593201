"""Everybody's audit log, for those who hold ``audit:read``: filtered pages, the
same selection exported as CSV or JSON Lines, and pruning old events.

(:mod:`diary.services.audit` records events and shows a user their own.)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import aliased

from diary.extensions import db
from diary.models import AuditEvent, User
from diary.models.types import utcnow
from diary.services.audit import AuditTag, record_event

EVENTS_PER_PAGE = 50
# Rows fetched from the database at a time while exporting.
EXPORT_BATCH = 500
EXPORT_FIELDS = ("id", "created_at", "tag", "user", "actor", "ip", "user_agent", "details")


class InvalidFilter(ValueError):
    """A filter the log cannot apply; the message says which."""


@dataclass(frozen=True)
class EventQuery:
    """Which events to show: every field optional."""

    email: str = ""
    tag: str = ""
    ip: str = ""
    since: date | None = None  # from the start of this day (UTC)
    until: date | None = None  # to the end of this day (UTC)
    page: int = 1


@dataclass(frozen=True)
class EventRow:
    """One event with the addresses of its user and actor."""

    event: AuditEvent
    user_email: str | None
    actor_email: str | None


@dataclass(frozen=True)
class EventPage:
    """One page of events, newest first."""

    rows: list[EventRow]
    page: int
    pages: int
    total: int


_Target = aliased(User)
_Actor = aliased(User)


def _conditions(query: EventQuery) -> list:
    conditions = []
    if query.tag:
        try:
            conditions.append(AuditEvent.tag == str(AuditTag(query.tag)))
        except ValueError:
            raise InvalidFilter("There is no such event type.") from None
    if query.email.strip():
        email = query.email.strip().lower()
        ids = select(User.id).where(func.lower(User.email) == email).scalar_subquery()
        # The events of that account, and those it did to others.
        conditions.append(or_(AuditEvent.user_id == ids, AuditEvent.actor_id == ids))
    if query.ip.strip():
        conditions.append(AuditEvent.ip == query.ip.strip())
    if query.since and query.until and query.since > query.until:
        raise InvalidFilter("The first day comes after the last.")
    if query.since:
        conditions.append(
            AuditEvent.created_at >= datetime.combine(query.since, time.min, timezone.utc)
        )
    if query.until:
        end = datetime.combine(query.until, time.min, timezone.utc) + timedelta(days=1)
        conditions.append(AuditEvent.created_at < end)
    return conditions


def _select(query: EventQuery):
    return (
        select(AuditEvent, _Target.email, _Actor.email)
        .outerjoin(_Target, _Target.id == AuditEvent.user_id)
        .outerjoin(_Actor, _Actor.id == AuditEvent.actor_id)
        .where(*_conditions(query))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )


def search(query: EventQuery) -> EventPage:
    """Return one page of the events matching ``query``, newest first.

    :raises InvalidFilter: an unknown tag, or dates the wrong way round.
    """
    total = (
        db.session.scalar(select(func.count(AuditEvent.id)).where(*_conditions(query))) or 0
    )
    pages = max(1, -(-total // EVENTS_PER_PAGE))
    page = min(max(query.page, 1), pages)
    result = db.session.execute(
        _select(query).limit(EVENTS_PER_PAGE).offset((page - 1) * EVENTS_PER_PAGE)
    )
    rows = [EventRow(event, user, actor) for event, user, actor in result]
    return EventPage(rows=rows, page=page, pages=pages, total=total)


def _records(query: EventQuery) -> Iterator[dict]:
    result = db.session.execute(
        _select(query).execution_options(yield_per=EXPORT_BATCH)
    )
    for event, user, actor in result:
        yield {
            "id": event.id,
            "created_at": event.created_at.isoformat(),
            "tag": event.tag,
            "user": user,
            "actor": actor,
            "ip": event.ip,
            "user_agent": event.user_agent,
            "details": event.details or {},
        }


def export_csv(query: EventQuery) -> Iterator[str]:
    """Yield the events matching ``query`` as CSV, a header line first, a line at
    a time (``details`` as JSON in one column).

    :raises InvalidFilter: as :func:`search`, before the first line.
    """
    _conditions(query)  # refuse a bad filter before anything is sent
    return _csv_lines(query)


def _csv_lines(query: EventQuery) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(EXPORT_FIELDS)
    for record in _records(query):
        record["details"] = json.dumps(record["details"], sort_keys=True)
        yield line([_cell(record[name]) for name in EXPORT_FIELDS])


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_jsonl(query: EventQuery) -> Iterator[str]:
    """Yield the events matching ``query`` as JSON Lines, one object per line.

    :raises InvalidFilter: as :func:`search`, before the first line.
    """
    _conditions(query)
    return (json.dumps(record, sort_keys=True) + "\n" for record in _records(query))


def prune(older_than: timedelta, *, actor: User | None = None) -> int:
    """Delete the events older than ``older_than``; record how many were deleted
    (itself an event, which is kept) and return the number.

    :raises ValueError: a duration that is not positive.
    """
    if older_than <= timedelta(0):
        raise ValueError("the age must be more than nothing")
    before = utcnow() - older_than
    result = db.session.execute(delete(AuditEvent).where(AuditEvent.created_at < before))
    count = result.rowcount or 0
    record_event(
        AuditTag.AUDIT_PRUNED,
        actor=actor,
        details={"deleted": count, "before": before.isoformat()},
    )
    return count
