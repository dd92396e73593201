"""Signed-in device rows: lifetime rules, remember me, listing and signing out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, User, UserSession
from diary.models.types import Strength
from diary.services import sessions
from diary.services.sessions import Expiry

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


def _row(**times) -> UserSession:
    values = {"session_started_at": T0, "last_seen_at": T0, **times}
    return UserSession(id="x", user_id=1, signed_in_at=T0, strength="password", **values)


def test_idle_and_absolute_limits(app):
    with app.app_context():
        row = _row()
        assert sessions.expiry_reason(row, T0 + timedelta(minutes=30, seconds=-1)) is None
        assert sessions.expiry_reason(row, T0 + timedelta(minutes=30)) is Expiry.IDLE
        twelve = timedelta(hours=12)
        busy = _row(last_seen_at=T0 + twelve - timedelta(minutes=1))
        assert sessions.expiry_reason(busy, T0 + twelve - timedelta(seconds=1)) is None
        assert sessions.expiry_reason(busy, T0 + twelve) is Expiry.ABSOLUTE
        app.config["SESSION_IDLE_TIMEOUT"] = 60
        assert sessions.expiry_reason(row, T0 + timedelta(seconds=60)) is Expiry.IDLE


@pytest.mark.parametrize(
    "methods, strength",
    [
        (["password"], Strength.PASSWORD),
        ([], Strength.PASSWORD),
        (["password", "second_factor"], Strength.MULTI_FACTOR),
        (["webauthn"], Strength.MULTI_FACTOR),
        (["confirm"], Strength.PASSWORD),
    ],
)
def test_how_strong_a_sign_in_is(methods, strength):
    assert sessions.strength_of(methods) is strength


def test_touch_writes_at_most_once_a_minute(app):
    with app.app_context():
        row = _row()
        assert not sessions.touch(row, "192.0.2.1", T0 + timedelta(seconds=59))
        assert row.last_seen_at == T0
        assert sessions.touch(row, "192.0.2.2", T0 + timedelta(seconds=60))
        assert (row.last_seen_at, row.last_ip) == (T0 + timedelta(seconds=60), "192.0.2.2")


@pytest.fixture
def writer(app, make_user):
    user_id = make_user("devices@example.com")
    with app.app_context():
        yield db.session.get(User, user_id)


def test_remember_me_is_a_digest_on_the_row_and_its_cookie_finds_it(app, writer, clock):
    started = sessions.start(writer, methods=["password"], store_key="k1", remember=True)
    db.session.commit()
    row_id, _, secret = started.remember_cookie.partition(".")
    assert row_id == started.row.id and len(secret) >= 40
    assert started.row.remember_digest == sessions.digest(secret) != secret
    assert started.row.remember_until == clock.current + timedelta(days=14)
    assert sessions.find_remembered(started.remember_cookie).id == started.row.id
    assert sessions.find_remembered(row_id + ".wrong") is None
    assert sessions.find_remembered("nonsense") is None
    clock.advance(days=14)
    assert sessions.find_remembered(started.remember_cookie) is None


def test_listing_shows_live_and_remembered_devices_only(app, writer, clock):
    live = sessions.start(writer, methods=["password"], store_key="k1").row
    remembered = sessions.start(writer, methods=["password"], store_key="k2", remember=True).row
    gone = sessions.start(writer, methods=["password"], store_key="k3").row
    db.session.commit()
    gone_id = gone.id
    clock.advance(minutes=31)
    sessions.touch(live, None)
    db.session.commit()
    listed = {d.id: d for d in sessions.list_devices(writer, current_id=live.id)}
    assert set(listed) == {live.id, remembered.id}
    assert listed[live.id].current and listed[live.id].signed_in
    assert not listed[remembered.id].signed_in and listed[remembered.id].remembered_until
    assert gone_id not in listed
    # A new sign-in clears rows that are over for good.
    sessions.start(writer, methods=["password"], store_key="k4")
    db.session.commit()
    assert db.session.get(UserSession, gone_id) is None


def test_signing_out_one_device_is_audited_and_only_the_owners(app, writer, make_user):
    other = db.session.get(User, make_user("other@example.com"))
    mine = sessions.start(writer, methods=["password"], store_key="k1").row
    theirs = sessions.start(other, methods=["password"], store_key="k2").row
    db.session.commit()
    with pytest.raises(sessions.DeviceNotFound):
        sessions.sign_out_device(writer, theirs.id)
    ended = sessions.sign_out_device(writer, mine.id, ip="192.0.2.9")
    assert ended.sessions == 1 and ended.store_keys == ["k1"]
    assert db.session.get(UserSession, mine.id) is None
    assert db.session.get(UserSession, theirs.id) is not None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.user_id == writer.id))
    assert event.tag == "account:sessions:device_signed_out" and event.ip == "192.0.2.9"


def test_signing_out_the_others_keeps_this_one(app, writer):
    here = sessions.start(writer, methods=["password"], store_key="k1").row
    sessions.start(writer, methods=["password"], store_key="k2")
    sessions.start(writer, methods=["password"], store_key="k3", remember=True)
    db.session.commit()
    ended = sessions.sign_out_other_devices(writer, here.id)
    # Both others have a live session (one also remembered): two sessions ended.
    assert (ended.sessions, ended.remembered) == (2, 0)
    rows = db.session.scalars(sa.select(UserSession.id)).all()
    assert rows == [here.id]
    event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event.tag == "account:sessions:ended"
    assert event.details["trigger"] == "sign_out_other_devices"
