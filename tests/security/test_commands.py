"""``flask users unlock EMAIL``."""

from __future__ import annotations

import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, User
from diary.services import lockout


def test_unlock_lets_a_locked_owner_in_and_is_audited(app, runner, auth, make_user, clock):
    user_id = make_user("cli@example.com")
    for _ in range(5):
        auth.login("cli@example.com", "wrong")
    with app.app_context():
        assert lockout.is_locked(db.session.get(User, user_id))

    result = runner.invoke(args=["users", "unlock", "CLI@example.com"])
    assert result.exit_code == 0, result.output
    assert "unlocked cli@example.com" in result.output
    assert auth.login("cli@example.com", "a-long-password").status_code == 302
    with app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.tag == "account:lockout:unlocked")
        ).one()
        assert (event.user_id, event.actor_id, event.details) == (user_id, None, {"reason": "cli"})


def test_unlock_of_an_unlocked_or_unknown_account(app, runner, make_user):
    make_user("free@example.com")
    assert "was not locked" in runner.invoke(args=["users", "unlock", "free@example.com"]).output
    result = runner.invoke(args=["users", "unlock", "ghost@example.com"])
    assert result.exit_code != 0 and "no account" in result.output
