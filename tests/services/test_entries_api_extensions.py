"""What the JSON API added to the entries service: listing one user's entries,
the lost-update check, and text every database can store.
(Named apart from test_entries.py, which holds the service's core tests.)"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from diary.extensions import db
from diary.models import User
from diary.services import credentials, entries
from diary.services.receipts import Access


@pytest.fixture
def users(app, demo_users, writers_may_edit):
    """The demo accounts as the identities the services act for (the admin has
    no second factor: a writer's rights only; writers may edit their own)."""
    with app.app_context():
        yield {
            email: credentials.for_user(db.session.get(User, uid))
            for email, uid in demo_users.items()
        }


def test_list_user_entries_needs_read_any_for_others(users, mfa_policy_off):
    writer, other, admin = (users[e] for e in ("writer@example.com", "test@me.com", "admin@example.com"))
    admin = credentials.for_user(admin.user)  # with the policy off, as mfa_policy_off set it
    theirs = entries.create_entry(other, "theirs")
    assert entries.list_user_entries(writer, writer.id).entries == []
    with pytest.raises(entries.EntryAccessDenied):
        entries.list_user_entries(writer, other.id)
    why = Access("Support ticket")
    assert [e.id for e in entries.list_user_entries(admin, other.id, access=why).entries] == [theirs.id]
    assert entries.list_user_entries(admin, 999999, access=why).entries == []


def test_update_refuses_a_stale_expected_updated_at(users):
    writer = users["writer@example.com"]
    entry = entries.create_entry(writer, "v1")
    seen = entry.updated_at
    entries.update_entry(writer, entry.id, "v2", expected_updated_at=seen)
    with pytest.raises(entries.EntryConflict):
        entries.update_entry(writer, entry.id, "v3", expected_updated_at=seen)
    with pytest.raises(entries.EntryConflict):
        entries.update_entry(writer, entry.id, "v3", expected_updated_at=seen - timedelta(days=1))
    assert db.session.get(type(entry), entry.id).content == "v2"
    entries.update_entry(writer, entry.id, "v4")  # no expectation: last write wins


@pytest.mark.parametrize("text", ["nul \x00 inside", "lone \ud800 surrogate"])
def test_text_no_database_can_store_is_refused(users, text):
    with pytest.raises(entries.EntryInvalid):
        entries.create_entry(users["writer@example.com"], text)


def test_cursor_with_an_impossible_time_is_invalid_not_a_crash():
    raw = "0001-01-01T00:00:00+23:59|1".encode()
    with pytest.raises(entries.InvalidCursor):
        entries.decode_cursor(base64.urlsafe_b64encode(raw).decode())
