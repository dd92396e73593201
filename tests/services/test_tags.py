"""Tags: which #words are tags, and how they are stored, filtered and counted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import Entry, EntryTag, User
from diary.services import credentials, entries, tags
from diary.services.receipts import Access


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Saw #herons by the #canal", ["canal", "herons"]),
        ("#Herons #HERONS #herons", ["herons"]),
        ("#zebra #apple #mango", ["apple", "mango", "zebra"]),
        ("#walk-in_the_park2", ["walk-in_the_park2"]),
        ("#trailing- hyphen", ["trailing"]),
        ("(#paren), #comma, end.#dot and:#colon", ["colon", "comma", "dot", "paren"]),
        ("#Café #ñandú", ["café", "ñandú"]),
        ("# Heading\n## Sub #inside", ["inside"]),
        ("#notaheading\nline", ["notaheading"]),
        ("`#code` and\n\n    #indented code\n\n```\n#fenced\n```", []),
        ("https://example.com/#top www.example.com/#x mailto:a@b.example#y", []),
        ("[#linked](https://x.example) <https://x.example/#auto> ![#alt](x.png)", []),
        ("[text](https://x.example/#frag)", []),
        ("\\#escaped", []),
        ("word#inside a&#35;b x/#slash =#eq @#at ##double", []),
        ("#2026 #1 #_ #-", []),
        ("issue #1 on #day2", ["day2"]),
        ("#" + "a" * 64 + " #" + "b" * 65, ["a" * 64]),
        ("no tags here", []),
        ("*#emphasised* **#strong**", ["emphasised", "strong"]),
        ("> #quoted\n- #listed", ["listed", "quoted"]),
    ],
)
def test_parse_tags(content, expected):
    assert tags.parse_tags(content) == expected


@pytest.fixture
def people(app, make_user, writers_may_edit):
    with app.app_context():
        ids = {"alice": make_user("alice@example.com"), "bob": make_user("bob@example.com")}
        yield {name: credentials.for_user(db.session.get(User, uid)) for name, uid in ids.items()}


def stored(entry_id: int) -> list[str]:
    return list(db.session.scalars(
        sa.select(EntryTag.tag).where(EntryTag.entry_id == entry_id).order_by(EntryTag.tag)
    ))


def test_tags_are_stored_on_create_and_follow_edits(people, writers_may_edit):
    alice = people["alice"]
    entry = entries.create_entry(alice, "Saw #herons and #Ducks")
    assert stored(entry.id) == ["ducks", "herons"]
    assert entry.tags == ["ducks", "herons"]
    entries.update_entry(alice, entry.id, "Only #ducks now, and #geese")
    db.session.expire_all()
    assert stored(entry.id) == ["ducks", "geese"]
    entries.update_entry(alice, entry.id, "No tags at all")
    assert stored(entry.id) == []


def test_entries_come_with_their_tags_which_follow_edits_in_the_same_session(
    people, writers_may_edit
):
    """The entries service reads an entry's tags in the statement that reads the
    entry (Entry.tag_names, no second query); an edit in the same session is seen
    at once, and after its commit."""
    alice = people["alice"]
    entry_id = entries.create_entry(alice, "#zebra #apple and #mango").id
    untagged_id = entries.create_entry(alice, "no tags").id
    db.session.expire_all()
    assert alice.id  # the actor's user, read again: not counted below
    sent = []
    listen = lambda conn, cursor, statement, *rest: sent.append(statement)  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        page = entries.list_own_entries(alice)
        assert [(e.id, e.tags) for e in page.entries] == [
            (untagged_id, []), (entry_id, ["apple", "mango", "zebra"])
        ]
        assert len(sent) == 1
        entry = entries.get_entry(alice, entry_id)
        assert entry.tags == ["apple", "mango", "zebra"]
        assert len(sent) == 1  # the same entry, already loaded with its tags
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    # Changed before any commit or flush (a flush of the entry would expire its
    # names anyway): the tags follow the change, not the names loaded with it.
    with db.session.no_autoflush:
        entry.content = "#kiwi"
        tags.sync(entry)
        assert "tag_names" in entry.__dict__
        assert entry.tags == ["kiwi"]
    db.session.rollback()
    entry = entries.update_entry(alice, entry_id, "Only #zebra now, and #yak")
    assert entry.tags == ["yak", "zebra"]
    assert entries.get_entry(alice, entry_id).tags == ["yak", "zebra"]
    db.session.expire_all()
    assert entries.get_entry(alice, entry_id).tags == ["yak", "zebra"]
    assert [e.tags for e in entries.list_own_entries(alice).entries] == [[], ["yak", "zebra"]]


def test_tags_go_with_their_entry(people, writers_may_edit, mfa_policy_off):
    entry = entries.create_entry(people["alice"], "#herons")
    entry_id = entry.id
    entries.delete_entry(people["alice"], entry_id)
    assert stored(entry_id) == []
    # The database's cascade too, for deletions that bypass the ORM (an account's).
    other = entries.create_entry(people["alice"], "#ducks")
    db.session.execute(sa.delete(Entry).where(Entry.id == other.id))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EntryTag)) == 0


def test_user_tags_counts_only_their_own(people):
    entries.create_entry(people["alice"], "#herons #ducks")
    entries.create_entry(people["alice"], "#herons again")
    entries.create_entry(people["bob"], "#herons #secret")
    assert tags.user_tags(people["alice"].id) == [("ducks", 1), ("herons", 2)]
    assert tags.user_tags(people["bob"].id) == [("herons", 1), ("secret", 1)]


def test_lists_filter_by_tag_and_never_show_anothers(people, mfa_policy_off):
    first = entries.create_entry(people["alice"], "#herons at dawn")
    entries.create_entry(people["alice"], "#ducks only")
    third = entries.create_entry(people["alice"], "More #Herons")
    entries.create_entry(people["bob"], "Bob's #herons")
    for tag in ("herons", "#HERONS", "Herons"):
        page = entries.list_own_entries(people["alice"], tag=tag)
        assert [e.id for e in page.entries] == [third.id, first.id]
    assert entries.list_own_entries(people["alice"], tag="geese").entries == []
    for bad in ("", "#", "123", "x" * 65, "a\x00b"):
        assert entries.list_own_entries(people["alice"], tag=bad).entries == []
    # Paginated like any list.
    page = entries.list_own_entries(people["alice"], limit=1, tag="herons")
    assert [e.id for e in page.entries] == [third.id]
    rest = entries.list_own_entries(people["alice"], page.next_cursor, limit=1, tag="herons")
    assert [e.id for e in rest.entries] == [first.id] and rest.next_cursor is None


def test_another_users_list_by_tag_is_a_recorded_read(people, app, make_user, mfa_policy_off):
    admin = credentials.for_user(db.session.get(User, make_user("root@example.com", role="Admin")))
    entries.create_entry(people["alice"], "#herons")
    entries.create_entry(people["alice"], "#ducks")
    with pytest.raises(entries.ReasonRequired):
        entries.list_user_entries(admin, people["alice"].id, tag="herons")
    page = entries.list_user_entries(
        admin, people["alice"].id, tag="herons", access=Access("Abuse report", "192.0.2.1", "t")
    )
    assert [e.content for e in page.entries] == ["#herons"]
