"""The archive rules: months in the writer's zone, counts, month pages, on this day,
day ranges; and newer/older paging of the entry lists."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import Entry, User
from diary.services import archive, credentials, entries, tags

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def people(ctx, make_user):
    ids = {"alice": make_user("alice@example.com"), "bob": make_user("bob@example.com")}
    return {name: credentials.for_user(db.session.get(User, uid)) for name, uid in ids.items()}


def write(actor, *stamps: datetime, text: str = "entry") -> list[int]:
    rows = [
        Entry(user_id=actor.id, content=f"{text} {stamp.isoformat()}", created_at=stamp,
              updated_at=stamp)
        for stamp in stamps
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def counts(years) -> dict[tuple[int, int], int]:
    return {(m.year, m.month): m.count for y in years for m in y.months}


# --- month boundaries ------------------------------------------------------------

def test_month_range_is_local_midnight_in_utc_across_dst(ctx):
    # Berlin is UTC+1 in winter, UTC+2 in summer (from 29 March 2026).
    assert archive.month_range(BERLIN, 2026, 3) == (
        datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC)
    )
    assert archive.month_range(BERLIN, 2026, 12) == (
        datetime(2026, 11, 30, 23, tzinfo=UTC), datetime(2026, 12, 31, 23, tzinfo=UTC)
    )


@pytest.mark.parametrize("year, month", [(2026, 13), (2026, 0), (0, 5), (9999, 12), (10000, 1)])
def test_month_range_refuses_months_outside_the_calendar(ctx, year, month):
    with pytest.raises(archive.MonthNotFound):
        archive.month_range(BERLIN, year, month)


def test_day_range_takes_whole_local_days_and_survives_the_calendars_ends(ctx):
    assert archive.day_range(BERLIN, date(2026, 6, 1), date(2026, 6, 1)) == (
        datetime(2026, 5, 31, 22, tzinfo=UTC), datetime(2026, 6, 1, 22, tzinfo=UTC)
    )
    assert archive.day_range(UTC, None, None) == (None, None)
    since, until = archive.day_range(BERLIN, date.min, date.max)
    assert since.year == 1 and until.year == 9999


# --- counts ----------------------------------------------------------------------

def test_counts_are_by_month_in_the_writers_zone(people):
    alice = people["alice"]
    write(
        alice,
        datetime(2026, 5, 31, 21, 59, tzinfo=UTC),  # 23:59 in Berlin: May
        datetime(2026, 5, 31, 22, 0, tzinfo=UTC),  # 00:00 on 1 June in Berlin
        datetime(2026, 5, 31, 23, 30, tzinfo=UTC),  # 01:30 on 1 June in Berlin
        datetime(2026, 2, 28, 23, 30, tzinfo=UTC),  # winter, UTC+1: 1 March
        datetime(2025, 12, 31, 23, 0, tzinfo=UTC),  # midnight on New Year: 2026
        datetime(2025, 12, 31, 22, 59, tzinfo=UTC),  # still 2025
    )
    assert counts(archive.month_counts(alice, BERLIN)) == {
        (2026, 6): 2, (2026, 5): 1, (2026, 3): 1, (2026, 1): 1, (2025, 12): 1,
    }
    # The same entries in UTC.
    assert counts(archive.month_counts(alice, UTC)) == {
        (2026, 5): 3, (2026, 2): 1, (2025, 12): 2,
    }


def test_years_and_months_come_newest_first_with_totals(people):
    alice = people["alice"]
    write(alice, *(datetime(2024, m, 10, tzinfo=UTC) for m in (1, 3, 3)),
          datetime(2026, 7, 1, 12, tzinfo=UTC))
    years = archive.month_counts(alice, BERLIN)
    assert [(y.year, y.count, [m.month for m in y.months]) for y in years] == [
        (2026, 1, [7]), (2024, 3, [3, 1]),
    ]


def test_another_users_entries_are_never_counted(people):
    write(people["bob"], datetime(2026, 5, 10, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC))
    assert archive.month_counts(people["alice"], BERLIN) == []
    write(people["alice"], datetime(2026, 5, 11, tzinfo=UTC))
    assert counts(archive.month_counts(people["alice"], BERLIN)) == {(2026, 5): 1}


def test_counts_span_more_than_one_statements_worth_of_months(people, monkeypatch):
    monkeypatch.setattr(archive, "_MONTHS_PER_STATEMENT", 5)
    stamps = [datetime(2020 + i // 12, i % 12 + 1, 15, tzinfo=UTC) for i in range(0, 30, 7)]
    write(people["alice"], *stamps)
    assert counts(archive.month_counts(people["alice"], BERLIN)) == {
        (s.year, s.month): 1 for s in stamps
    }


def brute_force_counts(stamps, zone) -> dict[tuple[int, int], int]:
    found: dict[tuple[int, int], int] = {}
    for stamp in stamps:
        local = stamp.astimezone(zone)
        found[(local.year, local.month)] = found.get((local.year, local.month), 0) + 1
    return found


@pytest.mark.parametrize("zone", [
    UTC, BERLIN, ZoneInfo("Asia/Kolkata"), ZoneInfo("America/St_Johns"),
    ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago"),
])
def test_counts_from_day_counts_equal_counting_each_entry(people, zone):
    # Entries at random instants over three years, and at and around the UTC and
    # local midnights that start months: the day counts and the partial days at a
    # month's ends must add up to exactly what counting each entry gives.
    import random

    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    stamps = [start + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60)) for _ in range(300)]
    for month in range(1, 13):
        midnight, _ = archive.month_range(zone, 2025, month)
        utc_midnight = datetime(2025, month, 1, tzinfo=UTC)
        for at in (midnight, utc_midnight):
            stamps += [at - timedelta(microseconds=1), at, at + timedelta(microseconds=1)]
    write(people["alice"], *stamps)
    write(people["bob"], *stamps[:50])
    assert counts(archive.month_counts(people["alice"], zone)) == brute_force_counts(stamps, zone)


def day_counts(user_id) -> dict:
    from diary.models import EntryDayCount

    rows = db.session.scalars(sa.select(EntryDayCount).where(EntryDayCount.user_id == user_id))
    return {row.day: row.count for row in rows if row.count}


def test_the_day_counts_follow_every_change_of_the_entries(people):
    alice, bob = people["alice"], people["bob"]
    first, second, third = write(alice, datetime(2026, 5, 1, 23, 59, tzinfo=UTC),
                                 datetime(2026, 5, 2, 0, 0, tzinfo=UTC),
                                 datetime(2026, 5, 2, 12, 0, tzinfo=UTC))
    assert day_counts(alice.id) == {date(2026, 5, 1): 1, date(2026, 5, 2): 2}
    # Moved to another day, given to another user, deleted: each is counted.
    db.session.get(Entry, second).created_at = datetime(2026, 4, 30, 8, tzinfo=UTC)
    db.session.commit()
    assert day_counts(alice.id) == {date(2026, 4, 30): 1, date(2026, 5, 1): 1, date(2026, 5, 2): 1}
    db.session.get(Entry, third).user_id = bob.id
    db.session.commit()
    assert day_counts(alice.id) == {date(2026, 4, 30): 1, date(2026, 5, 1): 1}
    assert day_counts(bob.id) == {date(2026, 5, 2): 1}
    db.session.execute(sa.delete(Entry).where(Entry.id == first))
    db.session.commit()
    assert day_counts(alice.id) == {date(2026, 4, 30): 1}
    assert counts(archive.month_counts(alice, UTC)) == {(2026, 4): 1}


def test_deleting_a_user_takes_their_day_counts(people):
    from diary.models import EntryDayCount
    from diary.services import accounts

    write(people["bob"], datetime(2026, 5, 2, tzinfo=UTC))
    write(people["alice"], datetime(2026, 5, 2, tzinfo=UTC))
    accounts.delete_account(db.session.get(User, people["bob"].id))
    assert db.session.scalars(sa.select(EntryDayCount.user_id)).all() == [people["alice"].id]


def test_the_archive_needs_the_right_to_read_ones_own_entries(ctx):
    class Nobody:
        id = 1

        def may(self, permission):
            return False

    with pytest.raises(entries.EntryAccessDenied):
        archive.month_counts(Nobody(), UTC)
    with pytest.raises(entries.EntryAccessDenied):
        archive.month_entries(Nobody(), UTC, 2026, 5)
    with pytest.raises(entries.EntryAccessDenied):
        archive.first_page(Nobody(), UTC)


# --- a month's entries -----------------------------------------------------------

def test_a_month_page_holds_that_local_month_and_names_its_neighbours(people):
    alice = people["alice"]
    may_last, june_first, _, _ = write(
        alice,
        datetime(2026, 5, 31, 21, 59, tzinfo=UTC),
        datetime(2026, 5, 31, 23, 30, tzinfo=UTC),
        datetime(2026, 1, 5, tzinfo=UTC),
        datetime(2026, 9, 5, tzinfo=UTC),
    )
    write(people["bob"], datetime(2026, 4, 5, tzinfo=UTC), datetime(2026, 7, 5, tzinfo=UTC))
    june = archive.month_entries(alice, BERLIN, 2026, 6)
    assert [e.id for e in june.page.entries] == [june_first]
    assert (june.previous.year, june.previous.month) == (2026, 5)
    assert (june.next.year, june.next.month) == (2026, 9)
    may = archive.month_entries(alice, BERLIN, 2026, 5)
    assert [e.id for e in may.page.entries] == [may_last]
    assert (may.previous.month, may.next.month) == (1, 6)
    january = archive.month_entries(alice, BERLIN, 2026, 1)
    assert january.previous is None
    empty = archive.month_entries(alice, BERLIN, 2025, 3)
    assert empty.page.entries == [] and empty.previous is None and empty.next.month == 1


def test_a_month_pages_back_and_forth(people, app):
    alice = people["alice"]
    start = datetime(2026, 5, 1, tzinfo=UTC)
    write(alice, *(start + timedelta(hours=i) for i in range(7)))
    pages = []
    result = archive.month_entries(alice, UTC, 2026, 5, limit=3)
    pages.append([e.id for e in result.page.entries])
    while result.page.next_cursor:
        result = archive.month_entries(alice, UTC, 2026, 5, result.page.next_cursor, limit=3)
        pages.append([e.id for e in result.page.entries])
    assert [len(p) for p in pages] == [3, 3, 1]
    back = [pages[-1]]
    while result.page.prev_cursor:
        result = archive.month_entries(alice, UTC, 2026, 5, after=result.page.prev_cursor, limit=3)
        back.append([e.id for e in result.page.entries])
    assert back[::-1] == pages


# --- on this day (the dashboard's first_page) -------------------------------------

def on_this_day(actor, zone, today, limit=archive.ON_THIS_DAY_LIMIT):
    return archive.first_page(actor, zone, today, days_limit=limit)[1]


def test_on_this_day_shows_the_same_local_day_in_earlier_years_only(people):
    alice = people["alice"]
    today = date(2026, 6, 1)
    last_year, two_years_ago = write(
        alice,
        datetime(2025, 5, 31, 22, 30, tzinfo=UTC),  # 1 June 2025, 00:30 in Berlin
        datetime(2024, 6, 1, 12, tzinfo=UTC),
    )
    write(
        alice,
        datetime(2026, 6, 1, 8, tzinfo=UTC),  # today: not an earlier year
        datetime(2025, 5, 31, 21, 30, tzinfo=UTC),  # 31 May in Berlin
        datetime(2025, 6, 2, 12, tzinfo=UTC),
        datetime(1995, 6, 1, 12, tzinfo=UTC),  # 31 years ago: too long ago
    )
    write(people["bob"], datetime(2023, 6, 1, 12, tzinfo=UTC))
    found = on_this_day(alice, BERLIN, today)
    assert [e.id for e in found] == [last_year, two_years_ago]
    assert [e.id for e in on_this_day(alice, BERLIN, today, limit=1)] == [last_year]


def test_on_this_day_bounds_are_the_local_midnights_to_the_microsecond(people):
    # On SQLite the bounds are compared as stored text (archive._range_json): an entry
    # at local midnight is in, one a microsecond before the next midnight too, and
    # those a microsecond outside are not.
    alice = people["alice"]
    start = datetime(2025, 5, 31, 22, tzinfo=UTC)  # 1 June 2025, 00:00 in Berlin
    stop = start + timedelta(days=1)
    first, last = write(alice, start, stop - timedelta(microseconds=1))
    write(alice, start - timedelta(microseconds=1), stop)
    found = on_this_day(alice, BERLIN, date(2026, 6, 1))
    assert [e.id for e in found] == [last, first]


def test_on_29_february_only_leap_years_have_the_day(people):
    (leap,) = write(people["alice"], datetime(2024, 2, 29, 12, tzinfo=UTC))
    (plain,) = write(people["alice"], datetime(2023, 2, 28, 12, tzinfo=UTC))
    assert [e.id for e in on_this_day(people["alice"], UTC, date(2028, 2, 29))] == [leap]
    # 28 February is its own day, leap year or not.
    assert [e.id for e in on_this_day(people["alice"], UTC, date(2027, 2, 28))] == [plain]


def test_on_this_day_far_below_the_page_comes_newest_first_up_to_its_limit(people, app):
    # The page holds only today's entries; "on this day" is read by its ranges.
    app.config["ENTRIES_PER_PAGE"] = 3
    alice = people["alice"]
    years = write(alice, *(datetime(year, 6, 1, 12, tzinfo=UTC) for year in range(2019, 2026)))
    write(alice, *(datetime(2026, 6, 1, 8, minute, tzinfo=UTC) for minute in range(5)))
    today = date(2026, 6, 1)
    for limit in (5, 2):
        assert [e.id for e in on_this_day(alice, UTC, today, limit)] == years[::-1][:limit]


# --- newer/older on the entry lists -------------------------------------------------

def test_own_entries_page_newer_and_older_with_the_same_pages(people):
    alice = people["alice"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    write(alice, *(start + timedelta(minutes=i) for i in range(10)))
    first = entries.list_own_entries(alice, limit=4)
    assert first.prev_cursor is None
    second = entries.list_own_entries(alice, first.next_cursor, limit=4)
    third = entries.list_own_entries(alice, second.next_cursor, limit=4)
    assert third.next_cursor is None and len(third.entries) == 2
    back = entries.list_own_entries(alice, after=third.prev_cursor, limit=4)
    assert [e.id for e in back.entries] == [e.id for e in second.entries]
    assert back.next_cursor == second.next_cursor
    top = entries.list_own_entries(alice, after=back.prev_cursor, limit=4)
    assert [e.id for e in top.entries] == [e.id for e in first.entries]
    assert top.prev_cursor is None and top.next_cursor == first.next_cursor


def test_newer_than_less_than_a_page_shows_the_newest_page(people):
    alice = people["alice"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    write(alice, *(start + timedelta(minutes=i) for i in range(10)))
    first = entries.list_own_entries(alice, limit=4)
    # From the second entry, only one newer one exists: the newest page instead.
    cursor = entries.encode_cursor(first.entries[1])
    page = entries.list_own_entries(alice, after=cursor, limit=4)
    assert [e.id for e in page.entries] == [e.id for e in first.entries]
    assert page.prev_cursor is None


def test_everyones_entries_page_back_too(people):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    write(people["alice"], *(start + timedelta(minutes=2 * i) for i in range(5)))
    write(people["bob"], *(start + timedelta(minutes=2 * i + 1) for i in range(5)))

    class Reader:
        id = people["alice"].id

        def may(self, permission):
            return True

    first = entries.list_all_entries(Reader(), limit=6)
    second = entries.list_all_entries(Reader(), first.next_cursor, limit=6)
    back = entries.list_all_entries(Reader(), after=second.prev_cursor, limit=6)
    assert [e.id for e in back.entries] == [e.id for e in first.entries]


def test_a_date_range_limits_the_list(people):
    alice = people["alice"]
    ids = write(alice, *(datetime(2026, 5, d, 12, tzinfo=UTC) for d in (1, 2, 3, 4)))
    since, until = archive.day_range(UTC, date(2026, 5, 2), date(2026, 5, 3))
    page = entries.list_own_entries(alice, since=since, until=until)
    assert [e.id for e in page.entries] == [ids[2], ids[1]]


def test_on_this_day_among_the_page_counts_only_earlier_years_of_the_day(people, app):
    # Everything on one page: "on this day" is sorted out of the page's rows too.
    app.config["ENTRIES_PER_PAGE"] = 100
    alice = people["alice"]
    last_year, afternoon, morning, thirty_years_ago = write(
        alice,
        datetime(2025, 5, 31, 22, 30, tzinfo=UTC),  # 1 June 2025 in Berlin
        datetime(2024, 6, 1, 12, tzinfo=UTC),
        datetime(2024, 6, 1, 8, tzinfo=UTC),
        datetime(1996, 6, 1, 12, tzinfo=UTC),
    )
    write(
        alice,
        datetime(2026, 6, 1, 8, tzinfo=UTC),  # this year
        datetime(2025, 5, 31, 21, 30, tzinfo=UTC),  # 31 May in Berlin
        datetime(1995, 6, 1, 12, tzinfo=UTC),  # 31 years ago
    )
    write(people["bob"], datetime(2023, 6, 1, 12, tzinfo=UTC))
    today = date(2026, 6, 1)
    page, days = archive.first_page(alice, BERLIN, today)
    assert len(page.entries) == 7
    assert [e.id for e in days] == [last_year, afternoon, morning, thirty_years_ago]
    assert [e.id for e in on_this_day(alice, BERLIN, today, 2)] == [last_year, afternoon]


# --- the dashboard's start: first page and "on this day" in one statement ---------

@pytest.mark.parametrize("recent", [3, 7, 8, 30])
def test_first_page_is_the_list_and_on_this_day_together(people, app, recent):
    # 7 a page (7 entries: no next page; 8: one more; 30: long). Some of "on this
    # day"'s entries are on the page (a year ago, among the newest), some far
    # below it, more of them than it shows; bob's never appear.
    app.config["ENTRIES_PER_PAGE"] = 7
    alice = people["alice"]
    today = date(2026, 6, 1)
    noon = datetime(2026, 6, 1, 10, tzinfo=UTC)
    years = write(alice, *(datetime(year, 6, 1, 10, tzinfo=UTC) for year in range(2000, 2012)))
    write(alice, *(noon - timedelta(days=400 + i) for i in range(10)))  # older than a year
    (last_year,) = write(alice, datetime(2025, 5, 31, 22, 30, tzinfo=UTC))  # 1 June 2025 in Berlin
    write(alice, *(noon - timedelta(hours=i + 1) for i in range(recent)))
    write(people["bob"], datetime(2025, 6, 1, 12, tzinfo=UTC), noon)

    page, days = archive.first_page(alice, BERLIN, today)

    expected = entries.list_own_entries(alice)
    assert [e.id for e in page.entries] == [e.id for e in expected.entries]
    assert page.next_cursor == expected.next_cursor and page.prev_cursor is None
    assert [e.id for e in days] == [last_year, *years[::-1]][: archive.ON_THIS_DAY_LIMIT]
    assert {e.user_id for e in page.entries + days} == {alice.id}


def test_first_page_is_one_statement_with_the_tags(people, app):
    alice = people["alice"]
    entry = Entry(user_id=alice.id, content="#herons at the canal",
                  created_at=datetime(2025, 6, 1, 12, tzinfo=UTC),
                  updated_at=datetime(2025, 6, 1, 12, tzinfo=UTC))
    tags.sync(entry)
    db.session.add(entry)
    db.session.commit()
    assert alice.id  # the user, reloaded after the commit above
    seen = []

    def record(*args):
        seen.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        page, days = archive.first_page(alice, BERLIN, date(2026, 6, 1))
        names = [e.tag_names for e in page.entries + days]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(seen) == 1, seen
    assert names == ["herons", "herons"]
    if db.engine.dialect.name == "postgresql":
        assert len(seen[0]) <= 4096  # psycopg keeps its conversion of shorter texts
        assert seen[0].count("%(") < 10  # the ranges as three arrays, not 90 values


def test_first_page_refuses_an_actor_who_may_not_read(people):
    nobody = credentials.Identity(
        user=db.session.get(User, people["alice"].id), kind=credentials.Kind.SESSION,
        strength=credentials.Strength.PASSWORD, permissions=frozenset(),
    )
    with pytest.raises(entries.EntryAccessDenied):
        archive.first_page(nobody, BERLIN)
