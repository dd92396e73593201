"""Access receipts: the reason rules, the owner's audit events, and the digest mail
(at most one a day, nothing listed twice or skipped)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AccessDigest, AuditEvent, Entry, User
from diary.services import receipts
from diary.services.receipts import Access, AccessKind, InvalidReason
from tests.conftest import FakeClock, sent_mails


@pytest.fixture
def receipt_clock(monkeypatch):
    """Stand in for the receipts' clock; return it."""
    fake = FakeClock(datetime(2026, 5, 3, 9, 0, tzinfo=timezone.utc))
    monkeypatch.setattr(receipts, "now", fake)
    return fake


@pytest.fixture
def people(app, make_user):
    """An admin (the reader) and a writer with two entries; returns their ids."""
    admin = make_user("admin@example.com", role="Admin")
    writer = make_user("writer@example.com")
    with app.app_context():
        first = Entry(user_id=writer, content="Dear diary",
                      created_at=datetime(2026, 5, 3, 8, 0, tzinfo=timezone.utc))
        second = Entry(user_id=writer, content="Second page",
                       created_at=datetime(2025, 12, 24, 8, 0, tzinfo=timezone.utc))
        db.session.add_all([first, second])
        db.session.commit()
        return {"admin": admin, "writer": writer, "entries": [first.id, second.id]}


def _read(app, people, reason="Spam report", index=0, kind=AccessKind.READ):
    with app.test_request_context():
        entry = db.session.get(Entry, people["entries"][index])
        receipts.record(people["admin"], kind, [entry], Access(reason, "192.0.2.1", "curl/8"))


def _digests(app):
    return [m for m in sent_mails(app) if m.subject == "Somebody opened your Diary entries"]


@pytest.mark.parametrize("reason, message", [
    (None, "Say why"), ("   ", "Say why"), ("x" * 201, "at most 200"),
    ("two\nlines", "one line"), ("tab\there", "one line"), ("nul\x00", "one line"),
])
def test_a_reason_is_one_line_of_some_text(reason, message):
    with pytest.raises(InvalidReason, match=message):
        receipts.clean_reason(reason)


def test_a_reason_is_kept_stripped():
    assert receipts.clean_reason("  Spam report ") == "Spam report"
    assert receipts.clean_reason("x" * 200) == "x" * 200


def test_an_access_is_an_event_of_the_owner_by_the_reader_without_content(app, people, receipt_clock):
    _read(app, people)
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent)).all()
    assert event.tag == "entry:access:read"
    assert (event.user_id, event.actor_id) == (people["writer"], people["admin"])
    assert event.details == {"reason": "Spam report", "entry_id": people["entries"][0],
                             "entry_date": "2026-05-03"}
    assert (event.ip, event.user_agent) == ("192.0.2.1", "curl/8")


def test_an_invalid_reason_records_nothing(app, people, receipt_clock):
    with pytest.raises(InvalidReason):
        _read(app, people, reason="")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0
    assert _digests(app) == []


def test_the_activity_wording_names_the_reader_the_entry_and_the_reason(app, people, receipt_clock):
    _read(app, people, index=0)
    _read(app, people, index=1, reason="Legal request", kind=AccessKind.DELETE)
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
        lines = receipts.describe_events(events)
    assert [lines[e.id] for e in events] == [
        "admin@example.com read your entry of 3 May (reason: Spam report)",
        "admin@example.com deleted your entry of 24 December 2025 (reason: Legal request)",
    ]


def test_the_first_access_mails_at_once_and_later_ones_wait_a_day(app, people, receipt_clock):
    _read(app, people, reason="First look")
    [mail] = _digests(app)
    assert mail.to == ["writer@example.com"]
    assert "admin@example.com read your entry of 3 May (reason: First look)" in mail.body
    assert "http://localhost/account/activity" in mail.body
    assert "Dear diary" not in mail.body  # never the content

    receipt_clock.advance(hours=23, minutes=59)
    _read(app, people, reason="Second look")
    assert len(_digests(app)) == 1  # at most one mail a day

    receipt_clock.advance(minutes=2)
    _read(app, people, reason="Third look", kind=AccessKind.EDIT)
    first, second = _digests(app)
    # The next digest lists what the first did not: the waiting access and the new one.
    assert "First look" not in second.body
    assert "(reason: Second look)" in second.body
    assert "admin@example.com edited your entry of 3 May (reason: Third look)" in second.body


def test_the_stored_time_decides(app, people, receipt_clock):
    _read(app, people)
    with app.app_context():
        row = db.session.get(AccessDigest, people["writer"])
        assert row.last_mailed_at == receipt_clock.current
        row.last_mailed_at = receipt_clock.current - timedelta(days=1, seconds=1)
        db.session.commit()
    _read(app, people, reason="Again")
    assert len(_digests(app)) == 2


def test_waiting_access_is_mailed_by_the_command_once_the_day_is_over(app, people, receipt_clock, runner):
    _read(app, people, reason="First look")
    _read(app, people, reason="Second look")
    assert len(_digests(app)) == 1
    assert "0 digests mailed." in runner.invoke(args=["receipts", "send-digests"]).output
    receipt_clock.advance(days=1)
    result = runner.invoke(args=["receipts", "send-digests"])
    assert "1 digest mailed." in result.output, result.output
    latest = _digests(app)[-1]
    assert "(reason: Second look)" in latest.body and "First look" not in latest.body
    # Nothing left to mail: no empty digest.
    receipt_clock.advance(days=2)
    assert "0 digests mailed." in runner.invoke(args=["receipts", "send-digests"]).output
    assert len(_digests(app)) == 2


def test_a_deleted_readers_access_still_reads_for_the_owner(app, people, receipt_clock):
    _read(app, people)
    with app.app_context():
        db.session.delete(db.session.get(User, people["admin"]))
        db.session.commit()
        events = db.session.scalars(sa.select(AuditEvent)).all()
        assert list(receipts.describe_events(events).values()) == [
            "Someone read your entry of 3 May (reason: Spam report)"]


def test_the_entry_date_is_the_owners_day_and_the_reader_is_named_by_address(
    app, people, receipt_clock
):
    # The first entry was written at 08:00 UTC on 3 May: in Honolulu (UTC-10) that
    # is 2 May. The reader has chosen a name that could pass for somebody else.
    with app.app_context():
        db.session.get(User, people["writer"]).time_zone = "Pacific/Honolulu"
        db.session.get(User, people["admin"]).name = "Your friendly helpdesk"
        db.session.commit()
    _read(app, people, index=0)
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent)).all()
        line = receipts.describe_events([event])[event.id]
    assert event.details["entry_date"] == "2026-05-02"
    assert line == "admin@example.com read your entry of 2 May (reason: Spam report)"
