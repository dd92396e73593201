"""UTCDateTime: timezone-aware UTC in Python on every backend."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError

from diary.extensions import db
from diary.models import Entry
from diary.models.types import UTCDateTime, utcnow


def test_utcnow_is_aware_utc():
    now = utcnow()
    assert now.tzinfo is timezone.utc
    assert abs(now - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_bind_converts_to_utc_and_refuses_naive():
    column = UTCDateTime()
    cest = timezone(timedelta(hours=2))
    value = datetime(2026, 6, 15, 20, 0, tzinfo=cest)
    assert column.process_bind_param(value, postgresql.dialect()) == datetime(
        2026, 6, 15, 18, 0, tzinfo=timezone.utc)
    # SQLite has no time zones: stored as naive UTC.
    assert column.process_bind_param(value, sqlite.dialect()) == datetime(2026, 6, 15, 18, 0)
    assert column.process_bind_param(None, sqlite.dialect()) is None
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 6, 15, 18, 0), sqlite.dialect())


def test_result_is_always_aware_utc():
    column = UTCDateTime()
    naive = datetime(2026, 6, 15, 18, 0)
    assert column.process_result_value(naive, sqlite.dialect()).tzinfo is timezone.utc
    cest = timezone(timedelta(hours=2))
    aware = column.process_result_value(datetime(2026, 6, 15, 20, 0, tzinfo=cest),
                                        postgresql.dialect())
    assert aware == datetime(2026, 6, 15, 18, 0, tzinfo=timezone.utc)
    assert aware.utcoffset() == timedelta(0)
    assert column.process_result_value(None, sqlite.dialect()) is None


def test_round_trip_through_the_database(app, make_user):
    uid = make_user("alice@example.com")
    cest = timezone(timedelta(hours=2))
    written = datetime(2026, 6, 15, 20, 0, 5, 123456, tzinfo=cest)
    with app.app_context():
        entry = Entry(user_id=uid, content="x", created_at=written, updated_at=written)
        db.session.add(entry)
        db.session.commit()
        db.session.expire_all()
        read = db.session.get(Entry, entry.id).created_at
        assert read == written
        assert read.utcoffset() == timedelta(0)
        # Ordering and comparison in SQL work on the UTC values.
        earlier = written - timedelta(seconds=1)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)
                                 .where(Entry.created_at > earlier)) == 1


def test_naive_value_is_refused_by_the_database_layer(app, make_user):
    uid = make_user("alice@example.com")
    with app.app_context():
        db.session.add(Entry(user_id=uid, content="x", created_at=datetime(2026, 1, 1),
                             updated_at=utcnow()))
        with pytest.raises(StatementError):
            db.session.commit()
        db.session.rollback()
