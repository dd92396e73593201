"""The account_lockout table."""

from __future__ import annotations

from datetime import datetime, timezone

from diary.extensions import db
from diary.models import AccountLockout, User


def test_one_row_per_user_removed_with_the_user(app, make_user):
    user_id = make_user("row@example.com")
    with app.app_context():
        until = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
        db.session.add(AccountLockout(user_id=user_id, failures=3, locked_until=until))
        db.session.commit()
        db.session.expire_all()
        row = db.session.get(AccountLockout, user_id)
        assert (row.failures, row.lockouts, row.locked_until) == (3, 0, until)
        db.session.delete(db.session.get(User, user_id))
        db.session.commit()
        assert db.session.get(AccountLockout, user_id) is None
