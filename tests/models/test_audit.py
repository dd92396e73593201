"""The AuditEvent model."""

from __future__ import annotations

from diary.extensions import db
from diary.models import AuditEvent


def test_defaults(app):
    with app.app_context():
        event = AuditEvent(tag="account:logout")
        db.session.add(event)
        db.session.commit()
        assert event.created_at.tzinfo is not None
        assert event.details == {}
        assert event.user_id is None and event.actor_id is None


def test_details_keep_json(app):
    with app.app_context():
        event = AuditEvent(tag="account:login:failure", details={"reason": "password", "n": 3})
        db.session.add(event)
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(AuditEvent, event.id).details == {"reason": "password", "n": 3}


def test_indexes_for_a_users_activity():
    indexes = {ix.name: [c.name for c in ix.columns] for ix in AuditEvent.__table__.indexes}
    assert indexes["ix_audit_event_user_id_created_at"] == ["user_id", "created_at"]
