"""What ends a user's sessions and tokens: one function for the events, and
deactivation however it happens."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import ApiToken, AuditEvent, FsRefreshTracker, User, UserSession
from diary.models.types import Strength
from diary.security.core import security
from diary.services import revocation, sessions, tokens
from diary.services.revocation import Trigger


@pytest.fixture
def writer(app, make_user):
    user_id = make_user("ending@example.com")
    with app.test_request_context():
        yield db.session.get(User, user_id)


def _everything(user):
    """Give ``user`` two sessions (one remembered), a refresh token and two tokens."""
    here = sessions.start(user, methods=["password"], store_key="k-here").row
    sessions.start(user, methods=["password"], store_key="k-there", remember=True)
    security.datastore.create_refresh_tracker(
        user, name="default", expires_at=security.datetime_factory() + timedelta(days=1)
    )
    for name in ("phone", "backup"):
        tokens.create_token(user, name, ["entries:read"], timedelta(days=9),
                            strength=Strength.PASSWORD)
    db.session.commit()
    return here


def test_end_credentials_ends_all_but_the_kept_session_and_records_it(writer):
    here = _everything(writer)
    old_uniquifier = writer.fs_uniquifier
    ended = revocation.end_credentials(
        writer, Trigger.PASSWORD_CHANGED, keep_session=here.id, ip="192.0.2.1"
    )
    assert (ended.sessions, ended.remembered, ended.refresh_tokens) == (1, 0, 1)
    assert sorted(ended.tokens) == ["backup", "phone"]
    assert ended.store_keys == ["k-there"]
    assert db.session.scalars(sa.select(UserSession.id)).all() == [here.id]
    assert all(t.revoked_at for t in db.session.scalars(sa.select(ApiToken)))
    assert db.session.scalar(sa.select(FsRefreshTracker)).revoked_at is not None
    assert writer.fs_uniquifier != old_uniquifier  # auth tokens name the old one
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.tag == "account:sessions:ended")
    )
    assert event.details == {"trigger": "password_changed", "sessions": 1, "remembered": 0,
                             "tokens": 2, "refresh_tokens": 1}
    assert event.ip == "192.0.2.1"


def test_sign_out_everywhere_ends_this_one_too_and_mails(app, writer, outbox):
    _everything(writer)
    ended = revocation.sign_out_everywhere(writer)
    assert ended.sessions == 2
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 0
    [mail] = [m for m in outbox if m.subject == "You signed out of Diary everywhere"]
    assert "2 signed-in sessions" in mail.body and "phone" in mail.body
    assert "/reset" in mail.body  # where to go if it was not you


def test_deactivation_ends_everything_in_its_transaction_and_mails_once_committed(
    app, writer, outbox
):
    _everything(writer)
    outbox.clear()
    security.datastore.deactivate_user(writer)
    db.session.flush()
    assert outbox == []  # not before the deactivation is stored
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 0
    assert all(t.revoked_at for t in db.session.scalars(sa.select(ApiToken)))
    [mail] = outbox
    assert mail.subject == "Your Diary account was deactivated"
    assert "2 signed-in sessions" in mail.body and "2 personal access tokens" in mail.body


def test_a_deactivation_rolled_back_ends_nothing_and_mails_nobody(app, writer, outbox):
    _everything(writer)
    outbox.clear()
    security.datastore.deactivate_user(writer)
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert outbox == []
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 2
