"""Sign-in, failed sign-in and sign-out in the audit log."""

from __future__ import annotations

import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent


def events(app):
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
        return [(e.tag, e.user_id, e.ip, e.details) for e in rows]


def test_success_failure_unknown_and_logout_are_recorded(app, client, auth, make_user):
    user_id = make_user("audit@example.com", "the-right-password")
    auth.login("audit@example.com", "a-wrong-password")
    auth.login("nobody@example.com", "a-wrong-password")
    auth.login("audit@example.com", "the-right-password")
    auth.logout()
    recorded = events(app)
    assert [(tag, uid) for tag, uid, _, _ in recorded] == [
        ("account:login:failure", user_id),
        ("account:login:failure", None),
        ("account:login:success", user_id),
        ("account:logout", user_id),
    ]
    assert all(ip == "127.0.0.1" for _, _, ip, _ in recorded)
    assert recorded[1][3] == {"method": "password", "reason": "unknown_identity"}
    assert recorded[2][3] == {"via": ["password"]}
    # Never a password, right or wrong.
    text = repr(recorded)
    assert "wrong-password" not in text and "right-password" not in text
