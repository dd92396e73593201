"""Friendly dates for the templates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from types import SimpleNamespace

from zoneinfo import ZoneInfo

from diary.web.filters import friendly_time, iso_time, local_time, user_zone, when

NOW = datetime(2026, 6, 15, 18, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("ago, expected", [
    (timedelta(seconds=0), "just now"),
    (timedelta(seconds=59), "just now"),
    (timedelta(minutes=1), "1 minute ago"),
    (timedelta(minutes=5, seconds=30), "5 minutes ago"),
    (timedelta(minutes=59), "59 minutes ago"),
    (timedelta(hours=1), "1 hour ago"),
    (timedelta(hours=3), "3 hours ago"),
    (timedelta(hours=20), "yesterday at 22:30"),
    (timedelta(days=1, hours=4), "yesterday at 14:30"),
    (timedelta(days=3), "12 June at 18:30"),
    (timedelta(days=200), "27 November 2025"),
])
def test_friendly_time(ago, expected):
    assert friendly_time(NOW - ago, now=NOW) == expected


def test_friendly_time_reads_other_time_zones_as_utc():
    cest = timezone(timedelta(hours=2))
    assert friendly_time(datetime(2026, 6, 15, 20, 25, tzinfo=cest), now=NOW) == "5 minutes ago"


def test_friendly_time_defaults_to_now():
    assert friendly_time(datetime.now(timezone.utc)) == "just now"


def test_iso_time_is_utc_to_the_second():
    cest = timezone(timedelta(hours=2))
    value = datetime(2026, 6, 15, 20, 25, 7, 999, tzinfo=cest)
    assert iso_time(value) == "2026-06-15T18:25:07+00:00"


def test_filters_are_registered(app):
    assert app.jinja_env.filters["friendly_time"] is friendly_time
    assert app.jinja_env.filters["iso_time"] is iso_time
    assert app.jinja_env.filters["local_time"] is local_time


TOKYO = ZoneInfo("Asia/Tokyo")  # UTC+9, no daylight saving time


def test_friendly_time_counts_days_on_the_calendar_of_the_zone():
    afternoon = datetime(2026, 6, 15, 14, 0, tzinfo=timezone.utc)  # 23:00 in Tokyo
    assert friendly_time(afternoon, now=NOW) == "4 hours ago"
    assert friendly_time(afternoon, now=NOW, zone=TOKYO) == "yesterday at 23:00"
    new_year = datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)
    assert friendly_time(new_year, now=NOW) == "31 December 2025"
    assert friendly_time(new_year, now=NOW, zone=TOKYO) == "1 January at 08:30"


def test_local_time_converts_to_the_zone():
    value = datetime(2024, 3, 2, 23, 30, tzinfo=timezone.utc)
    assert local_time(value, zone=TOKYO) == "2024-03-03 08:30 JST"
    assert local_time(value, "%Y-%m-%d", zone=ZoneInfo("Europe/Paris")) == "2024-03-03"
    assert local_time(value) == "2024-03-02 23:30 UTC"  # no request: UTC


def test_the_zone_is_the_signed_in_users(app, make_user):
    from diary.extensions import db
    from diary.models import User

    uid = make_user("zone@example.com")
    from diary.services.profile import UTC

    assert user_zone() is UTC  # no request
    with app.test_request_context():
        assert user_zone() is UTC  # nobody signed in
    with app.test_request_context():
        user = db.session.get(User, uid)
        user.time_zone = "Asia/Tokyo"
        from flask_login import login_user

        login_user(user)
        assert user_zone() == TOKYO
        user.time_zone = "Europe/Paris"
        assert user_zone() == TOKYO  # looked up once per request


def test_when_uses_the_zone_for_people_and_utc_for_machines():
    entry = SimpleNamespace(created_at=datetime(2024, 3, 2, 23, 30, tzinfo=timezone.utc),
                            updated_at=datetime(2024, 3, 2, 23, 30, tzinfo=timezone.utc))
    assert when(entry, now=NOW, zone=TOKYO) == (
        '<time datetime="2024-03-02T23:30:00+00:00" title="2024-03-03 08:30 JST">3 March 2024</time>'
    )


def test_when_says_when_an_entry_was_written():
    entry = SimpleNamespace(created_at=NOW - timedelta(minutes=5), updated_at=NOW - timedelta(minutes=5))
    assert when(entry, now=NOW) == (
        '<time datetime="2026-06-15T18:25:00+00:00" title="2026-06-15 18:25 UTC">5 minutes ago</time>'
    )


def test_when_adds_an_edit_more_than_a_second_later():
    written = NOW - timedelta(hours=3)
    same = SimpleNamespace(created_at=written, updated_at=written + timedelta(seconds=1))
    edited = SimpleNamespace(created_at=written, updated_at=NOW - timedelta(minutes=2))
    assert "edited" not in when(same, now=NOW)
    assert when(edited, now=NOW).endswith('<small class="muted">(edited 2 minutes ago)</small>')


def test_when_is_a_template_global(app):
    assert app.jinja_env.globals["when"] is when


def test_a_page_says_every_date_against_one_instant(app):
    """Within a request every friendly date is counted from the same "now", so two
    entries written at the same time never read "just now" and "1 minute ago"."""
    from diary.web.filters import _now

    with app.test_request_context("/"):
        first = _now()
        assert _now() is first
    with app.test_request_context("/"):
        assert _now() is not first
