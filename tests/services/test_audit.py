"""The audit log: one enum of tags, one function that records, a user's own events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent
from diary.services import audit
from diary.services.audit import AuditTag


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def users(ctx, make_user):
    from diary.models import User

    return (db.session.get(User, make_user("alice@example.com")),
            db.session.get(User, make_user("root@example.com", role="Admin")))


def test_record_event_stores_what_it_is_given(users):
    alice, admin = users
    event = audit.record_event(
        AuditTag.LOGIN_SUCCESS, user=alice, actor=admin.id, ip="192.0.2.7",
        user_agent="Firefox", details={"method": "password"},
    )
    db.session.expire_all()
    stored = db.session.get(AuditEvent, event.id)
    assert stored.tag == "account:login:success"
    assert (stored.user_id, stored.actor_id) == (alice.id, admin.id)
    assert (stored.ip, stored.user_agent) == ("192.0.2.7", "Firefox")
    assert stored.details == {"method": "password"}
    assert stored.created_at.tzinfo is not None


def test_record_event_accepts_the_tag_value_and_defaults(users):
    event = audit.record_event("account:logout")
    assert event.tag == "account:logout"
    assert event.user_id is None and event.actor_id is None
    assert event.details == {} and event.user_agent is None


def test_unknown_tag_is_refused(users):
    with pytest.raises(ValueError):
        audit.record_event("account:made:up")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_user_agent_is_cut_to_the_column_size(users):
    event = audit.record_event(AuditTag.LOGIN_FAILURE, user_agent="x" * 2000)
    assert len(event.user_agent) == 512


def test_commit_false_leaves_it_to_the_caller(users):
    audit.record_event(AuditTag.LOGOUT, user=users[0], commit=False)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_recent_events_are_the_users_own_newest_first(users):
    alice, admin = users
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    for i in range(5):
        db.session.add(AuditEvent(tag="account:login:success", user_id=alice.id,
                                  created_at=start + timedelta(hours=i), details={"i": i}))
    db.session.add(AuditEvent(tag="account:login:success", user_id=admin.id, details={}))
    db.session.commit()
    events = audit.recent_events(alice, limit=3)
    assert [e.details["i"] for e in events] == [4, 3, 2]
    assert all(e.user_id == alice.id for e in audit.recent_events(alice))


def test_deleting_a_user_keeps_their_events(users):
    alice, _ = users
    event = audit.record_event(AuditTag.ACCOUNT_REGISTERED, user=alice)
    db.session.delete(alice)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(AuditEvent, event.id).user_id is None


def test_every_tag_has_a_description():
    assert set(audit.DESCRIPTIONS) == set(AuditTag)
    assert audit.describe("account:login:failure") == "Failed sign-in attempt"
    assert audit.describe("something:else") == "something:else"


def test_tags_fit_their_column():
    assert max(len(tag.value) for tag in AuditTag) <= AuditEvent.__table__.c.tag.type.length
