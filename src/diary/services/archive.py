"""The archive: a writer's own entries by year and month, "on this day" in earlier
years, and the day ranges of the API's date filter, all in the writer's time zone.

Dates are stored in UTC; a month or a day is a range of the writer's calendar. Every
boundary here is computed in Python with :mod:`zoneinfo` (local midnight of the
first day, converted to UTC), so it is right across daylight saving time and for
zones whose offset changed, and the database only compares timestamps. That is the
same on SQLite (which has no zone database) and PostgreSQL, and every comparison is
a seek on the ``(user_id, created_at, id)`` index:

- the month counts are one statement (per 20 years of diary, after one that finds
  the first and last entry) that counts nothing entry by entry: each month adds up
  the writer's entries per UTC day (``entry_day_count``, kept by triggers on
  ``entry``, migration 0012) over the whole UTC days inside it, plus the entries of
  the partial UTC days at its two ends, counted by range (none for a writer in UTC;
  at most two days' entries elsewhere). Counting every entry read a 100,000-entry
  diary's whole index on each view (12 ms); this reads 60 months' day rows (1 ms).
  No function of ``created_at`` is computed per entry (PostgreSQL's ``AT TIME
  ZONE`` in a ``GROUP BY`` would be, and SQLite has nothing to compute it with);
- a month's page is the entry list with a range condition, plus one statement for
  the neighbouring months;
- "on this day" is the day's range in each of 30 earlier years, joined the same
  way, in the statement of the dashboard's first page (:func:`first_page`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from sqlalchemy import Date, Integer, String, TextClause, bindparam, func, select, text, union_all
from sqlalchemy.dialects import sqlite

from diary.extensions import db
from diary.models import Entry
from diary.models.types import UTCDateTime
from diary.services import entries, tags
from diary.services.entries import Action, Actor, Page

# How many earlier years "on this day" looks back, and how many entries it shows.
# Each year is one index seek in the dashboard's statement: on SQLite the 30 of
# them take the database about twice as long as reading the page of entries.
ON_THIS_DAY_YEARS = 30
ON_THIS_DAY_LIMIT = 5
# Month ranges per counting statement: 20 years (bind parameters stay few).
_MONTHS_PER_STATEMENT = 240
_UTC_MIN = datetime.min.replace(tzinfo=timezone.utc)
_UTC_MAX = datetime.max.replace(tzinfo=timezone.utc)


class MonthNotFound(entries.EntryError):
    """No such month: a month number outside 1–12, or a year outside the calendar."""


@dataclass(frozen=True)
class Month:
    """A month of the writer's calendar and how many entries they wrote in it."""

    year: int
    month: int
    count: int = 0

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


@dataclass(frozen=True)
class Year:
    """A year and its months that have entries, newest first."""

    year: int
    months: list[Month]

    @property
    def count(self) -> int:
        return sum(m.count for m in self.months)


@dataclass(frozen=True)
class MonthPage:
    """One page of a month's entries, and the nearest months before and after it
    that have entries (None where there is none)."""

    month: Month
    page: Page
    previous: Month | None
    next: Month | None


def local_midnight(zone: tzinfo, day: date) -> datetime:
    """Return the UTC instant at which ``day`` begins in ``zone``.

    Where midnight does not exist (clocks jump forward at 00:00), ``fold=0`` maps it
    to the instant of the jump, the day's first; where it happens twice, to the
    first. Clamped to the UTC calendar at its ends (year 1, year 9999).
    """
    try:
        return datetime.combine(day, time(), tzinfo=zone).astimezone(timezone.utc)
    except OverflowError:
        return _UTC_MIN if day.year == 1 else _UTC_MAX


def month_of(instant: datetime, zone: tzinfo) -> tuple[int, int]:
    """Return the (year, month) of ``instant`` in ``zone``'s calendar."""
    local = instant.astimezone(zone)
    return local.year, local.month


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def month_range(zone: tzinfo, year: int, month: int) -> tuple[datetime, datetime]:
    """Return the UTC range ``[start, end)`` of ``month`` of ``year`` in ``zone``.

    :raises MonthNotFound: month outside 1–12 or year outside 1–9998.
    """
    if not (1 <= month <= 12 and 1 <= year <= 9998):
        raise MonthNotFound(f"{year}-{month}")
    start = local_midnight(zone, date(year, month, 1))
    end = local_midnight(zone, date(*_next_month(year, month), 1))
    return start, end


def day_range(
    zone: tzinfo, first: date | None, last: date | None
) -> tuple[datetime | None, datetime | None]:
    """Return the UTC range ``[since, until)`` from the start of ``first`` to the end
    of ``last`` (both days of ``zone``'s calendar, both included; None leaves that
    side open)."""
    since = local_midnight(zone, first) if first else None
    until = None
    if last is not None:
        until = _UTC_MAX if last == date.max else local_midnight(zone, last + timedelta(days=1))
    return since, until


def _own(actor: Actor) -> None:
    if not Action.READ.allowed(actor, actor.id):
        raise entries.EntryAccessDenied("own")


# The statements below are SQL text, so that a statement of one shape is compiled
# once (SQLAlchemy's values() construct was compiled again on every call, which
# cost more than running it; a UNION ALL of one-row SELECTs made PostgreSQL start
# parallel workers for a handful of rows). The ranges drive the join: for each
# range, one seek on the (user_id, created_at, id) index. A plain SELECT, not
# WITH: pages that only read are checked to run SELECTs alone
# (tests/test_database.py).
#
# The month counts take their ranges as bound parameters in a VALUES list, in a
# few fixed sizes (unused rows are empty ranges); its columns are column1,
# column2, ... as PostgreSQL and SQLite both name them (SQLite takes no column
# names after its alias).
_SIZES = (12, 60, _MONTHS_PER_STATEMENT)


def _range_json(rows: list[tuple[int, datetime, datetime]]) -> dict:
    """The ranges of :func:`_ranges_text` on SQLite: one JSON array of ``[start,
    stop]``, newest first, each bound as SQLite stores ``created_at``, converted by
    the column type's own bind processing (so the text compares as the stored text
    does). Done once per zone and day by the cached caller: through the typed
    parameters, the 60 bounds were converted on every dashboard, about a third of
    the "on this day" statement's time (bench/profile)."""
    dialect = sqlite.dialect()
    convert = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    return {"ranges": json.dumps([[convert(start), convert(stop)] for _, start, stop in rows])}


def _range_arrays(rows: list[tuple[int, datetime, datetime]]) -> dict:
    """The ranges of :func:`_ranges_text` on PostgreSQL: three arrays, as many
    elements as there are ranges, each as the text of an array literal that the
    statement casts (``{2025,2024}``, ``{2025-06-01T00:00:00+00:00,…}``).

    Text rather than lists: psycopg dumps a list element by element in Python (with
    a regular expression per element to decide on quoting), which for the 60
    bounds was more time than the rest of the statement (bench/profile); this is
    built once per zone and day by the cached caller. No element needs quoting:
    they are integers and ISO 8601 times (digits, ``-``, ``:``, ``.``, ``T``, ``+``).
    """
    def literal(values) -> str:
        return "{" + ",".join(values) + "}"

    return {
        "range_numbers": literal(str(int(n)) for n, _, _ in rows),
        "range_starts": literal(start.isoformat() for _, start, _ in rows),
        "range_stops": literal(stop.isoformat() for _, _, stop in rows),
    }


def _size(n: int) -> int:
    return next(size for size in _SIZES if size >= n)


# A month's count, without counting each entry: the full UTC days inside it from
# entry_day_count (kept by triggers, migration 0012), plus the entries of the two
# partial UTC days at its ends (none in UTC; a seek each elsewhere). Each row of the
# VALUES list is one month: its number, [start, first UTC midnight), the UTC days
# [first day, last day), [last UTC midnight, end).
_COUNT_COLUMNS = ("n", "s", "ps", "d", "e", "pe", "t")
_COUNT_TYPES = {"n": Integer, "s": UTCDateTime, "ps": UTCDateTime, "d": Date, "e": Date,
                "pe": UTCDateTime, "t": UTCDateTime}
_EMPTY_MONTH = (-1, _UTC_MIN, _UTC_MIN, date.min, date.min, _UTC_MIN, _UTC_MIN)


@lru_cache(maxsize=None)
def _counting(size: int) -> TextClause:
    """Count one user's entries in each of ``size`` months (see above)."""
    rows = ", ".join("(" + ", ".join(f":{c}{i}" for c in _COUNT_COLUMNS) + ")" for i in range(size))
    entries_between = (
        "(SELECT count(*) FROM entry WHERE entry.user_id = :owner_id "
        "AND entry.created_at >= ranges.column{} AND entry.created_at < ranges.column{})"
    )
    return text(
        "SELECT ranges.column1, "
        "(SELECT coalesce(sum(days.count), 0) FROM entry_day_count AS days "
        "WHERE days.user_id = :owner_id AND days.day >= ranges.column4 "
        "AND days.day < ranges.column5) "
        f"+ {entries_between.format(2, 3)} + {entries_between.format(6, 7)} "
        f"FROM (VALUES {rows}) AS ranges"
    ).bindparams(
        bindparam("owner_id", type_=Integer),
        *(bindparam(f"{c}{i}", type_=_COUNT_TYPES[c]) for i in range(size) for c in _COUNT_COLUMNS),
    )


def _utc_days(start: datetime, end: datetime) -> tuple:
    """Return the :data:`_COUNT_COLUMNS` (less the number) of the range ``[start,
    end)``, which spans at least one whole UTC day."""
    first = datetime.combine(start.date(), time(), tzinfo=timezone.utc)
    if first < start:
        first += timedelta(days=1)
    last = datetime.combine(end.date(), time(), tzinfo=timezone.utc)
    return start, first, first.date(), last.date(), last, end


def _ranges_text(dialect: str) -> TextClause:
    """The ids of one user's entries in any of the bound ranges, newest first, at
    most ``days_limit``.

    Ordered by the range first (they are disjoint and come newest first, so the
    order is the same): ordered by ``created_at`` alone, the databases walked the
    writer's whole index backwards, testing every entry against the ranges, instead
    of seeking each range.

    The ranges are few parameters, whatever their number: on PostgreSQL three arrays
    (:func:`_range_arrays`), on SQLite one JSON array read by ``json_each``
    (:func:`_range_json`). As 90 parameters (a ``VALUES`` list of 30 rows), each was
    handled in Python on every call, by SQLAlchemy and the driver, at more than the
    database's own time for the statement; and with PostgreSQL's casts the text
    passed the 4,096 characters up to which psycopg keeps its conversion of the
    placeholders, which it then redid on every call.

    On PostgreSQL each range is a ``LATERAL`` subquery of its own, newest first and
    limited: with a plain join the planner may (and on a fresh 1.1-million-entry
    database did: 300 ms) read all of a writer's 100,000 entries and test each
    against the ranges; ``LATERAL`` leaves it one index seek per range (0.3 ms).
    SQLite has no ``LATERAL``; its planner drives the join from the ranges, one
    seek each."""
    if dialect == "postgresql":
        source = (
            "unnest(CAST(:range_numbers AS INTEGER[]), CAST(:range_starts AS TIMESTAMPTZ[]), "
            "CAST(:range_stops AS TIMESTAMPTZ[])) AS ranges(n, start, stop) "
            "CROSS JOIN LATERAL (SELECT entry.id, entry.created_at FROM entry "
            "WHERE entry.user_id = :owner_id "
            "AND entry.created_at >= ranges.start AND entry.created_at < ranges.stop "
            "ORDER BY entry.created_at DESC, entry.id DESC LIMIT :days_limit) AS entry"
        )
        newest_range = "ranges.n DESC"
        ranges = tuple(
            bindparam(name, type_=String) for name in ("range_numbers", "range_starts", "range_stops")
        )
    else:
        source = (
            "json_each(:ranges) AS ranges JOIN entry ON entry.user_id = :owner_id "
            "AND entry.created_at >= json_extract(ranges.value, '$[0]') "
            "AND entry.created_at < json_extract(ranges.value, '$[1]')"
        )
        newest_range = "ranges.key"  # the array's order
        ranges = (bindparam("ranges", type_=String),)
    return text(
        f"SELECT entry.id FROM {source} "
        f"ORDER BY {newest_range}, entry.created_at DESC, entry.id DESC LIMIT :days_limit"
    ).bindparams(bindparam("owner_id", type_=Integer), *ranges)


@lru_cache(maxsize=None)
def _first_page_and_days(dialect: str):
    """The dashboard's one statement (:func:`first_page`): the entries whose ids are
    among the writer's newest ``page_limit`` or "on this day"'s, newest first, with
    their tags. Each part is an index walk of its own (the page: the newest end of
    the writer's ``(user_id, created_at, id)`` range; the days: one seek per year),
    and the entries are then read by primary key."""
    page = (
        select(Entry.id)
        .where(Entry.user_id == bindparam("owner_id"))
        .order_by(*entries.NEWEST_FIRST)
        .limit(bindparam("page_limit"))
        .subquery()
    )
    days = _ranges_text(dialect).columns(Entry.id).subquery()
    chosen = union_all(select(page.c.id), select(days.c.id))
    return (
        select(Entry)
        .options(*tags.WITH_NAMES)
        .where(Entry.id.in_(chosen))
        .order_by(*entries.NEWEST_FIRST)
    )


def first_page(
    actor: Actor, zone: tzinfo, today: date | None = None, days_limit: int = ON_THIS_DAY_LIMIT
) -> tuple[Page, list[Entry]]:
    """Return the dashboard's start, in one statement: the first page of ``actor``'s
    entries, as :func:`diary.services.entries.list_own_entries` gives it, and "on
    this day": up to ``days_limit`` of their entries written on today's month and
    day (in ``zone``'s calendar) in the :data:`ON_THIS_DAY_YEARS` earlier years,
    newest first. On 29 February only leap years have that day.

    The statement reads the page's entries (one more than a page, to know whether
    there is a next) and "on this day"'s, newest first: every entry of the second
    kind that is not on the page is older than all of the page's, so the page is
    the first rows, and "on this day" is sorted out of all of them.

    :raises EntryAccessDenied: the actor may not read their own entries.
    """
    _own(actor)
    today = today or datetime.now(timezone.utc).astimezone(zone).date()
    limit = entries.per_page()
    dialect = db.session.get_bind().dialect.name
    params = {
        "owner_id": actor.id,
        "page_limit": limit + 1,
        "days_limit": days_limit,
        **_earlier_days(zone, today, dialect),
    }
    rows = list(db.session.scalars(_first_page_and_days(dialect), params))
    return entries.page_of(rows[: limit + 1], limit), _on_this_day(rows, zone, today, days_limit)


def _on_this_day(rows: list[Entry], zone: tzinfo, today: date, limit: int) -> list[Entry]:
    """The entries of ``rows`` (newest first) written on ``today``'s month and day in
    ``zone``'s calendar in the earlier years, at most ``limit``."""
    first_year = today.year - ON_THIS_DAY_YEARS
    found = []
    for entry in rows:
        day = entry.created_at.astimezone(zone).date()
        if (day.month, day.day) == (today.month, today.day) and first_year <= day.year < today.year:
            found.append(entry)
            if len(found) == limit:
                break
    return found


def month_counts(actor: Actor, zone: tzinfo) -> list[Year]:
    """Return the years and months in which ``actor`` wrote entries, in ``zone``'s
    calendar, with their counts, newest first. Months without entries are left out.

    Two statements for a diary of up to 20 years (the first and last entry, then
    the counts; one more per further 20 years).

    :raises EntryAccessDenied: the actor may not read their own entries.
    """
    _own(actor)
    owner = Entry.user_id == actor.id
    first, last = db.session.execute(
        select(
            select(func.min(Entry.created_at)).where(owner).scalar_subquery(),
            select(func.max(Entry.created_at)).where(owner).scalar_subquery(),
        )
    ).one()
    if first is None:
        return []
    # min()/max() through a subquery come back without the column's type on SQLite.
    first, last = _aware(first), _aware(last)
    months = []
    ym, stop = month_of(first, zone), month_of(last, zone)
    while ym <= stop:
        months.append(ym)
        ym = _next_month(*ym)
    counts: dict[tuple[int, int], int] = {}
    for offset in range(0, len(months), _MONTHS_PER_STATEMENT):
        chunk = months[offset : offset + _MONTHS_PER_STATEMENT]
        size = _size(len(chunk))
        params = {"owner_id": actor.id}
        for i in range(size):
            row = (i, *_utc_days(*month_range(zone, *chunk[i]))) if i < len(chunk) else _EMPTY_MONTH
            params.update({f"{c}{i}": value for c, value in zip(_COUNT_COLUMNS, row)})
        for n, count in db.session.execute(_counting(size), params):
            if n >= 0 and count:
                counts[chunk[n]] = count
    years: dict[int, list[Month]] = {}
    for (y, m), count in sorted(counts.items(), reverse=True):
        years.setdefault(y, []).append(Month(y, m, count))
    return [Year(y, ms) for y, ms in years.items()]


def _aware(value) -> datetime:
    if isinstance(value, str):  # SQLite, without the column type
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def month_entries(
    actor: Actor,
    zone: tzinfo,
    year: int,
    month: int,
    cursor: str | None = None,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> MonthPage:
    """Return one page of ``actor``'s entries of ``month`` of ``year`` in ``zone``'s
    calendar, newest first (``cursor``/``after`` as for
    :func:`diary.services.entries.list_own_entries`), with the nearest earlier and
    later months that have entries.

    :raises MonthNotFound: no such month (see :func:`month_range`).
    :raises EntryAccessDenied: the actor may not read their own entries.
    :raises InvalidCursor: a cursor this app did not make.
    """
    start, end = month_range(zone, year, month)
    _own(actor)
    page = entries.list_own_entries(actor, cursor, limit, after=after, since=start, until=end)
    owner = Entry.user_id == actor.id
    before, later = db.session.execute(
        select(
            select(func.max(Entry.created_at))
            .where(owner, Entry.created_at < start)
            .scalar_subquery(),
            select(func.min(Entry.created_at))
            .where(owner, Entry.created_at >= end)
            .scalar_subquery(),
        )
    ).one()
    return MonthPage(
        Month(year, month),
        page,
        Month(*month_of(_aware(before), zone)) if before is not None else None,
        Month(*month_of(_aware(later), zone)) if later is not None else None,
    )


@lru_cache(maxsize=64)
def _earlier_days(zone: tzinfo, today: date, dialect: str) -> dict:
    """The bound ranges of ``today``'s month and day in earlier years, newest first
    (for :func:`_ranges_text` on ``dialect``): the same for every writer in ``zone`` all
    day, so computed once."""
    rows = []
    for year in range(today.year - 1, max(today.year - ON_THIS_DAY_YEARS, 1) - 1, -1):
        try:
            day = today.replace(year=year)
        except ValueError:  # 29 February in a year that has none
            continue
        rows.append((year, local_midnight(zone, day), local_midnight(zone, day + timedelta(days=1))))
    if dialect == "postgresql":
        return _range_arrays(rows)
    return _range_json(rows)
