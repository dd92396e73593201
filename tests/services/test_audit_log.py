"""diary.services.audit_log: everybody's events, exported and pruned."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from diary.extensions import db
from diary.models import AuditEvent
from diary.models.types import utcnow
from diary.services import audit_log


def test_prune_keeps_newer_events_and_records_itself(app):
    with app.app_context():
        now = utcnow()
        db.session.add_all([
            AuditEvent(tag="account:logout", created_at=now - timedelta(hours=13)),
            AuditEvent(tag="account:logout", created_at=now - timedelta(hours=11)),
        ])
        db.session.commit()
        assert audit_log.prune(timedelta(hours=12)) == 1
        page = audit_log.search(audit_log.EventQuery())
        assert [row.event.tag for row in page.rows] == ["audit_log:pruned", "account:logout"]


def test_prune_refuses_a_duration_of_nothing(app):
    with app.app_context(), pytest.raises(ValueError):
        audit_log.prune(timedelta(0))


def test_search_refuses_unknown_tags_and_reversed_days(app):
    with app.app_context():
        with pytest.raises(audit_log.InvalidFilter):
            audit_log.search(audit_log.EventQuery(tag="account:nope"))
        with pytest.raises(audit_log.InvalidFilter):
            audit_log.export_csv(
                audit_log.EventQuery(since=date(2026, 2, 1), until=date(2026, 1, 1))
            )
