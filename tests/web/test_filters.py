"""Friendly dates for the templates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from types import SimpleNamespace

from diary.web.filters import friendly_time, iso_time, when

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
