"""The entry rules: content, ownership and permissions, pages and cursors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import Entry, User
from diary.services import credentials, entries
from diary.services.receipts import Access
from tests.support.cursors import OUT_OF_RANGE_CURSORS, crafted_cursor


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def people(ctx, make_user, mfa_policy_off, writers_may_edit):
    """A writer, a second writer and an admin, as the identities the services act
    for. The admin may use their role without a second factor here
    (MFA_REQUIRED_ROLES is tested in tests/services/test_mfa.py), and writers may
    edit and delete their own entries (granted, as an operator would: the default
    roles are tested below); these tests are about the ownership rule."""
    ids = {
        "alice": make_user("alice@example.com"),
        "bob": make_user("bob@example.com"),
        "admin": make_user("root@example.com", role="Admin"),
    }
    return {name: credentials.for_user(db.session.get(User, uid)) for name, uid in ids.items()}


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Entry))


def add_entries(user: User, n: int, start=datetime(2026, 1, 1, tzinfo=timezone.utc)):
    db.session.add_all(
        Entry(user_id=user.id, content=f"#{i}", created_at=start + timedelta(minutes=i),
              updated_at=start + timedelta(minutes=i))
        for i in range(n)
    )
    db.session.commit()


# --- content -------------------------------------------------------------------

def test_clean_content_strips_whitespace(ctx):
    assert entries.clean_content("  hello \n") == "hello"


@pytest.mark.parametrize("content", [None, "", "   ", "\n\t"])
def test_clean_content_refuses_empty(ctx, content):
    with pytest.raises(entries.EntryInvalid, match="cannot be empty"):
        entries.clean_content(content)


def test_clean_content_limit_is_the_setting_and_counts_characters(ctx):
    assert entries.max_length() == 280
    assert entries.clean_content("é" * 280) == "é" * 280  # characters, not bytes
    with pytest.raises(entries.EntryInvalid, match="at most 280 characters; this one has 281"):
        entries.clean_content("x" * 281)
    ctx.config["ENTRY_MAX_LENGTH"] = 5
    with pytest.raises(entries.EntryInvalid):
        entries.clean_content("x" * 6)


def test_clean_content_keeps_line_breaks_as_typed_and_counts_them_once(ctx):
    # A browser sends a textarea's line breaks as CRLF; the counter counted one each.
    assert entries.clean_content("one\r\ntwo\rthree\n") == "one\ntwo\nthree"
    ctx.config["ENTRY_MAX_LENGTH"] = 9
    assert entries.clean_content("abcd\r\nefgh") == "abcd\nefgh"  # 9 characters


def test_create_entry_stores_it_with_aware_timestamps(people):
    entry = entries.create_entry(people["alice"], " Dear diary ")
    db.session.expire_all()
    stored = db.session.get(Entry, entry.id)
    assert stored.content == "Dear diary"
    assert stored.user_id == people["alice"].id
    assert stored.created_at.tzinfo is not None and stored.updated_at.tzinfo is not None


def test_create_entry_refused_stores_nothing(people):
    with pytest.raises(entries.EntryInvalid):
        entries.create_entry(people["alice"], "x" * 281)
    assert count() == 0


# --- ownership -----------------------------------------------------------------

def test_owner_may_do_everything_with_own_entry(people):
    entry = entries.create_entry(people["alice"], "mine")
    for action in entries.Action:
        assert entries.may(people["alice"], action, entry)
        assert entries.get_entry(people["alice"], entry.id, action) is entry


def test_a_writer_of_the_default_role_may_read_and_write_but_not_edit_or_delete(ctx, make_user):
    """The tutorial's role demo: Writers create entries and read their own."""
    writer = credentials.for_user(db.session.get(User, make_user("plain@example.com")))
    entry = entries.create_entry(writer, "mine")
    assert entries.may(writer, entries.Action.READ, entry)
    for action in (entries.Action.EDIT, entries.Action.DELETE):
        assert not entries.may(writer, action, entry)
        with pytest.raises(entries.EntryAccessDenied):
            entries.get_entry(writer, entry.id, action)
    with pytest.raises(entries.EntryAccessDenied):
        entries.update_entry(writer, entry.id, "changed")
    with pytest.raises(entries.EntryAccessDenied):
        entries.delete_entry(writer, entry.id)


def test_every_right_over_an_entry_is_a_permission(ctx, make_user):
    """Take read-own and create away from Writer: its members can do nothing."""
    from diary.security.core import security

    writer_id = make_user("bare@example.com")
    role = security.datastore.find_role("Writer")
    security.datastore.remove_permissions_from_role(role, ["entry:read-own", "entry:create"])
    db.session.commit()
    writer = credentials.for_user(db.session.get(User, writer_id))
    with pytest.raises(entries.EntryAccessDenied):
        entries.create_entry(writer, "no")
    with pytest.raises(entries.EntryAccessDenied):
        entries.list_own_entries(writer)


def test_other_writer_may_do_nothing_with_it(people):
    entry = entries.create_entry(people["alice"], "mine")
    for action in entries.Action:
        assert not entries.may(people["bob"], action, entry)
        with pytest.raises(entries.EntryAccessDenied):
            entries.get_entry(people["bob"], entry.id, action)


def test_admin_may_do_everything_through_permissions(people):
    entry = entries.create_entry(people["alice"], "mine")
    for action in entries.Action:
        assert entries.may(people["admin"], action, entry)


def test_each_action_needs_its_own_permission(people):
    from diary.security.core import security

    entry = entries.create_entry(people["alice"], "mine")
    role = security.datastore.find_role("Writer")
    security.datastore.add_permissions_to_role(role, ["entry:read-any"])
    db.session.commit()
    bob = credentials.for_user(people["bob"].user)  # what his next request may do
    assert entries.may(bob, entries.Action.READ, entry)
    assert not entries.may(bob, entries.Action.EDIT, entry)
    assert not entries.may(bob, entries.Action.DELETE, entry)


def test_missing_entry_is_not_found(people):
    with pytest.raises(entries.EntryNotFound):
        entries.get_entry(people["admin"], 424242)


def test_update_entry_changes_content_and_updated_at(people):
    entry = entries.create_entry(people["alice"], "first")
    created = entry.created_at
    updated = entries.update_entry(people["alice"], entry.id, "second")
    assert updated.content == "second"
    assert updated.updated_at >= created
    assert updated.created_at == created


def test_update_refused_for_others_and_for_bad_content(people):
    entry = entries.create_entry(people["alice"], "first")
    with pytest.raises(entries.EntryAccessDenied):
        entries.update_entry(people["bob"], entry.id, "pwned")
    with pytest.raises(entries.EntryInvalid):
        entries.update_entry(people["alice"], entry.id, "")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Entry, entry.id).content == "first"


def test_delete_entry(people):
    entry = entries.create_entry(people["alice"], "bye")
    with pytest.raises(entries.EntryAccessDenied):
        entries.delete_entry(people["bob"], entry.id)
    assert count() == 1
    assert entries.delete_entry(people["admin"], entry.id, Access("Spam")) is True  # somebody else's
    assert count() == 0
    with pytest.raises(entries.EntryNotFound):
        entries.delete_entry(people["admin"], entry.id, Access("Spam"))
    own = entries.create_entry(people["alice"], "mine")
    assert entries.delete_entry(people["alice"], own.id) is False
    assert count() == 0


# --- access receipts -----------------------------------------------------------------

def _access_tags():
    from diary.models import AuditEvent

    return db.session.scalars(
        sa.select(AuditEvent.tag).where(AuditEvent.tag.like("entry:access:%")).order_by(AuditEvent.id)
    ).all()


def test_another_users_entry_needs_a_reason_for_every_action(people):
    entry = entries.create_entry(people["alice"], "hers")
    admin = people["admin"]
    for call in (
        lambda access: entries.get_entry(admin, entry.id, access=access),
        lambda access: entries.get_entry(admin, entry.id, entries.Action.EDIT, access),
        lambda access: entries.update_entry(admin, entry.id, "changed", access=access),
        lambda access: entries.delete_entry(admin, entry.id, access),
        lambda access: entries.list_user_entries(admin, entry.user_id, access=access),
    ):
        for access in (None, Access(""), Access("x" * 201)):
            with pytest.raises(entries.ReasonRequired):
                call(access)
    assert db.session.get(Entry, entry.id).content == "hers"
    assert _access_tags() == []
    # What the reason page may show: who and when, never the text.
    header = entries.entry_or_header(admin, entry.id)
    assert (header.id, header.author_name) == (entry.id, "alice@example.com")
    assert not hasattr(header, "content")


def test_entry_or_header_gives_ones_own_entry_and_only_the_header_of_anothers(people):
    alice, bob, admin = people["alice"], people["bob"], people["admin"]
    entry = entries.create_entry(alice, "hers #tagged")
    own = entries.entry_or_header(alice, entry.id, entries.Action.EDIT)
    assert isinstance(own, Entry) and own.content == "hers #tagged"
    for action in entries.Action:
        header = entries.entry_or_header(admin, entry.id, action)
        assert isinstance(header, entries.EntryHeader)
        assert (header.id, header.author_name) == (entry.id, "alice@example.com")
        assert not hasattr(header, "content")
        # The same rule as get_entry: without the permission, refused.
        with pytest.raises(entries.EntryAccessDenied):
            entries.entry_or_header(bob, entry.id, action)
    with pytest.raises(entries.EntryNotFound):
        entries.entry_or_header(admin, entry.id + 1000)
    assert _access_tags() == []


def test_each_reasoned_access_is_recorded_for_the_owner(people):
    entry = entries.create_entry(people["alice"], "hers")
    admin = people["admin"]
    assert entries.get_entry(admin, entry.id, access=Access("Report")).content == "hers"
    entries.list_user_entries(admin, entry.user_id, access=Access("Report"))
    entries.update_entry(admin, entry.id, "moderated", access=Access("Report"))
    entries.delete_entry(admin, entry.id, Access("Report"))
    assert _access_tags() == [
        "entry:access:read", "entry:access:read", "entry:access:edit", "entry:access:delete"]


def test_an_edit_refused_for_its_content_records_nothing(people):
    entry = entries.create_entry(people["alice"], "hers")
    with pytest.raises(entries.EntryInvalid):
        entries.update_entry(people["admin"], entry.id, "", access=Access("Report"))
    assert _access_tags() == []


def test_ones_own_entries_need_no_reason_and_record_nothing(people):
    admin = people["admin"]
    entry = entries.create_entry(admin, "mine")
    entries.get_entry(admin, entry.id)
    entries.list_user_entries(admin, admin.id)
    entries.update_entry(admin, entry.id, "still mine")
    entries.delete_entry(admin, entry.id)
    assert _access_tags() == []


# --- pages -----------------------------------------------------------------------

def test_list_own_entries_pages_newest_first_without_gaps(people):
    add_entries(people["alice"], 45)
    add_entries(people["bob"], 3)
    seen, cursor = [], None
    while True:
        page = entries.list_own_entries(people["alice"], cursor)
        assert len(page.entries) <= 20
        assert all(e.user_id == people["alice"].id for e in page.entries)
        seen += [e.content for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"#{i}" for i in range(44, -1, -1)]


def test_entries_at_the_same_instant_are_ordered_by_id(people):
    moment = datetime(2026, 5, 1, tzinfo=timezone.utc)
    db.session.add_all(Entry(user_id=people["alice"].id, content=str(i), created_at=moment,
                             updated_at=moment) for i in range(5))
    db.session.commit()
    first = entries.list_own_entries(people["alice"], limit=2)
    second = entries.list_own_entries(people["alice"], first.next_cursor, limit=2)
    third = entries.list_own_entries(people["alice"], second.next_cursor, limit=2)
    ids = [e.id for p in (first, second, third) for e in p.entries]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    assert third.next_cursor is None


def test_last_page_has_no_cursor(people):
    add_entries(people["alice"], 20)
    assert entries.list_own_entries(people["alice"]).next_cursor is None
    assert entries.list_own_entries(people["bob"]).entries == []


def test_page_size_is_a_setting(ctx, people):
    add_entries(people["alice"], 8)
    ctx.config["ENTRIES_PER_PAGE"] = 3
    page = entries.list_own_entries(people["alice"])
    assert len(page.entries) == 3 and page.next_cursor


def test_list_all_entries_needs_read_any(people):
    add_entries(people["alice"], 2)
    add_entries(people["bob"], 2, start=datetime(2026, 2, 1, tzinfo=timezone.utc))
    with pytest.raises(entries.EntryAccessDenied):
        entries.list_all_entries(people["bob"])
    page = entries.list_all_entries(people["admin"])
    assert [e.author.email for e in page.entries] == [
        "bob@example.com", "bob@example.com", "alice@example.com", "alice@example.com"]


# --- cursors ---------------------------------------------------------------------

def test_cursor_round_trip(people):
    entry = entries.create_entry(people["alice"], "x")
    created_at, entry_id = entries.decode_cursor(entries.encode_cursor(entry))
    assert (created_at, entry_id) == (entry.created_at, entry.id)


@pytest.mark.parametrize("cursor", [
    "not-a-cursor", "!!!!", "", "MjAyNi0wMS0wMVQwMDowMDowMHwx",  # naive timestamp
    "MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHx4",  # id is not a number
])
def test_bad_cursors_are_refused(ctx, cursor):
    with pytest.raises(entries.InvalidCursor):
        entries.decode_cursor(cursor)


@pytest.mark.parametrize("cursor", OUT_OF_RANGE_CURSORS)
def test_out_of_range_cursors_are_refused(ctx, cursor):
    with pytest.raises(entries.InvalidCursor):
        entries.decode_cursor(cursor)


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00"])
@pytest.mark.parametrize("entry_id", ["1", str(2**31 - 1)])
def test_cursors_at_the_edges_of_the_range_are_queried(people, stamp, entry_id):
    # The extremes that decode_cursor lets through are values every database takes.
    entries.list_own_entries(people["alice"], crafted_cursor(stamp, entry_id))
    entries.list_all_entries(people["admin"], crafted_cursor(stamp, entry_id))
