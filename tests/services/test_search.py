"""Full-text search (diary.services.search) on the test database's engine: SQLite's
FTS5, or PostgreSQL's text search with DIARY_TEST_DATABASE_URL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, Entry, User
from diary.services import credentials, entries, search
from diary.services.audit import AuditTag
from diary.services.receipts import Access
from diary.services.search import Scope, Term


@pytest.fixture
def users(app, demo_users, writers_may_edit, mfa_policy_off):
    """The demo accounts as the identities the services act for (the admin with
    entry:read-any: the two-factor policy is off)."""
    with app.app_context():
        yield {
            email: credentials.for_user(db.session.get(User, uid))
            for email, uid in demo_users.items()
        }


def _contents(results):
    return [hit.entry.content for hit in results.hits]


def test_stemming_walking_finds_walked(users):
    writer = users["writer@example.com"]
    entries.create_entry(writer, "We walked along the river at dawn.")
    entries.create_entry(writer, "Stayed in and read.")
    assert _contents(search.search(writer, "walking")) == ["We walked along the river at dawn."]
    assert _contents(search.search(writer, "WALKS")) == ["We walked along the river at dawn."]


def test_words_are_all_required(users):
    writer = users["writer@example.com"]
    entries.create_entry(writer, "Rain and bread")
    entries.create_entry(writer, "Bread only")
    assert _contents(search.search(writer, "bread rain")) == ["Rain and bread"]


def test_phrase_and_exclusion(users):
    writer = users["writer@example.com"]
    entries.create_entry(writer, "Two herons by the canal this morning.")
    entries.create_entry(writer, "Herons at the lake, grey herons everywhere.")
    entries.create_entry(writer, "The lake was grey.")
    assert _contents(search.search(writer, '"herons" -canal')) == [
        "Herons at the lake, grey herons everywhere."]
    # A phrase is its words in that order, not anywhere.
    assert _contents(search.search(writer, '"grey herons"')) == [
        "Herons at the lake, grey herons everywhere."]
    assert _contents(search.search(writer, '"herons grey"')) == []
    assert _contents(search.search(writer, 'lake -"grey herons"')) == ["The lake was grey."]


def test_or_allows_either(users):
    writer = users["writer@example.com"]
    entries.create_entry(writer, "A fox in the garden")
    entries.create_entry(writer, "A badger at night")
    entries.create_entry(writer, "Nothing at all")
    assert sorted(_contents(search.search(writer, "fox or badger"))) == [
        "A badger at night", "A fox in the garden"]


def test_best_match_first_then_newest(users):
    writer = users["writer@example.com"]
    entries.create_entry(writer, "tea, then more tea, then tea again with tea")
    entries.create_entry(writer, "A long day at the office with many meetings, and one tea")
    entries.create_entry(writer, "A long day at the office with many meetings, and one tea!")
    found = _contents(search.search(writer, "tea"))
    assert found[0] == "tea, then more tea, then tea again with tea"
    # Equal matches: the newer first.
    assert found[1:] == ["A long day at the office with many meetings, and one tea!",
                         "A long day at the office with many meetings, and one tea"]


def test_another_users_entries_are_never_returned(users):
    writer, other = users["writer@example.com"], users["test@me.com"]
    entries.create_entry(other, "secret herons by the canal")
    entries.create_entry(writer, "my herons")
    assert _contents(search.search(writer, "herons")) == ["my herons"]
    assert _contents(search.search(writer, "secret")) == []


def test_a_writer_cannot_search_everyone_or_another_user(users):
    writer, other = users["writer@example.com"], users["test@me.com"]
    entries.create_entry(other, "herons")
    with pytest.raises(entries.EntryAccessDenied):
        search.search(writer, "herons", scope=Scope.EVERYONE, access=Access("curious"))
    with pytest.raises(entries.EntryAccessDenied):
        search.search(writer, "herons", user_id=other.id, access=Access("curious"))


def test_searching_everyone_needs_a_reason_and_records_each_shown_entry(users):
    admin, other, writer = (users[e] for e in ("admin@example.com", "test@me.com",
                                               "writer@example.com"))
    theirs = entries.create_entry(other, "herons by the canal")
    mine = entries.create_entry(writer, "herons again")
    entries.create_entry(admin, "my own herons")
    with pytest.raises(entries.ReasonRequired):
        search.search(admin, "herons", scope=Scope.EVERYONE)
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.tag == str(AuditTag.ENTRY_ACCESS_READ))) == 0

    found = search.search(admin, "herons", scope=Scope.EVERYONE, access=Access("Abuse report 7"))
    assert {hit.entry.id for hit in found.hits} == {theirs.id, mine.id,
                                                   *[e.id for e in found.entries
                                                     if e.user_id == admin.id]}
    assert len(found.hits) == 3
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.tag == str(AuditTag.ENTRY_ACCESS_READ))).all()
    # One read per other user's entry shown, in its owner's log; the admin's own none.
    assert sorted((e.user_id, e.actor_id, e.details["entry_id"], e.details["reason"])
                  for e in events) == sorted([
        (other.id, admin.id, theirs.id, "Abuse report 7"),
        (writer.id, admin.id, mine.id, "Abuse report 7")])


def test_searching_another_users_entries_needs_read_any_and_a_reason(users):
    admin, other = users["admin@example.com"], users["test@me.com"]
    theirs = entries.create_entry(other, "herons by the canal")
    with pytest.raises(entries.ReasonRequired):
        search.search(admin, "herons", user_id=other.id)
    found = search.search(admin, "herons", user_id=other.id, access=Access("Support ticket"))
    assert found.entries == [theirs]
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.tag == str(AuditTag.ENTRY_ACCESS_READ), AuditEvent.user_id == other.id)) == 1


def test_own_search_records_nothing(users):
    writer = users["writer@example.com"]
    entries.create_entry(writer, "herons")
    search.search(writer, "herons")
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.tag == str(AuditTag.ENTRY_ACCESS_READ))) == 0


def test_snippets_escape_html_and_mark_only_the_matches(users):
    writer = users["writer@example.com"]
    entries.create_entry(writer, '<script>alert("x")</script> herons & <b>bold</b> 1 < 2 \x02odd\x03')
    [hit] = search.search(writer, "herons").hits
    html = str(hit.snippet)
    assert "<mark>herons</mark>" in html
    # Nothing of the entry's is markup: every < and & is escaped. (PostgreSQL's
    # headline leaves out what its parser takes for tags; SQLite keeps them, escaped.)
    assert "<" not in html.replace("<mark>", "").replace("</mark>", "")
    assert "&amp;" in html and "1 &lt; 2" in html
    # Control characters written in the entry never become a tag.
    assert html.count("<mark>") == 1 and html.count("</mark>") == 1


def test_results_paginate(users):
    writer = users["writer@example.com"]
    made = [entries.create_entry(writer, f"walk number {i}").id for i in range(5)]
    first = search.search(writer, "walk", limit=2)
    second = search.search(writer, "walk", limit=2, page=2)
    third = search.search(writer, "walk", limit=2, page=3)
    assert first.has_more and second.has_more and not third.has_more
    assert [e.id for r in (first, second, third) for e in r.entries] == made[::-1]
    assert search.decode_cursor(first.next_cursor) == 2
    assert third.next_cursor is None


def _written(actor, *contents: str, day: int = 1) -> list[int]:
    """Store ``contents`` as ``actor``'s entries of 1 January 2026 + ``day``, a minute
    apart, oldest first; return their ids."""
    from datetime import datetime, timedelta, timezone

    start = datetime(2026, 1, day, tzinfo=timezone.utc)
    rows = [Entry(user_id=actor.id, content=text, created_at=start + timedelta(minutes=i),
                  updated_at=start + timedelta(minutes=i)) for i, text in enumerate(contents)]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def _all_pages(actor, query, limit, **kw) -> list[tuple[list[str], bool]]:
    pages, page = [], 1
    while True:
        results = search.search(actor, query, limit=limit, page=page, **kw)
        pages.append((_contents(results), results.has_more))
        if not results.has_more:
            return pages
        page += 1


def test_matches_are_ranked_within_windows_of_the_newest(users, app):
    writer = users["writer@example.com"]
    app.config["SEARCH_RANK_WINDOW"] = 2
    _written(writer, "tea tea tea tea, the oldest and best", "tea once", "tea once more",
             "tea and tea, the newest")
    # Newest first in windows of two: [newest, once more], [once, oldest]; each
    # window best first. The oldest entry, the best match, leads its own window only.
    assert _all_pages(writer, "tea", limit=1) == [
        (["tea and tea, the newest"], True),
        (["tea once more"], True),
        (["tea tea tea tea, the oldest and best"], True),
        (["tea once"], False),
    ]
    # Within one window (the default, 200), the best comes first.
    app.config["SEARCH_RANK_WINDOW"] = 200
    assert _contents(search.search(writer, "tea"))[0] == "tea tea tea tea, the oldest and best"


def test_more_results_is_exact_at_window_ends(users, app):
    writer = users["writer@example.com"]
    app.config["SEARCH_RANK_WINDOW"] = 2
    _written(writer, "fox one", "fox two")
    assert _all_pages(writer, "fox", limit=2) == [(["fox two", "fox one"], False)]
    _written(writer, "fox three", day=2)
    assert _all_pages(writer, "fox", limit=2) == [
        (["fox three", "fox two"], True), (["fox one"], False)]
    assert _contents(search.search(writer, "fox", limit=2, page=3)) == []


def test_every_match_is_reached_once_across_windows_and_pages(users, app):
    writer, admin, other = (users[e] for e in ("writer@example.com", "admin@example.com",
                                               "test@me.com"))
    app.config["SEARCH_RANK_WINDOW"] = 4  # with pages of 3: windows of 6
    assert search.rank_window(3) == 6
    words = ["heron"] * 13
    mine = _written(writer, *(f"{w} {'heron ' * (i % 3)}{i}" for i, w in enumerate(words)))
    theirs = _written(other, *(f"heron at {i}" for i in range(4)))
    _written(writer, "no match here")
    seen = [text for page, _ in _all_pages(writer, "heron", limit=3) for text in page]
    assert len(seen) == len(set(seen)) == len(mine)
    everyone = _all_pages(admin, "heron", limit=3, scope=Scope.EVERYONE,
                          access=Access("Abuse report 9"))
    found = [text for page, _ in everyone for text in page]
    assert len(found) == len(set(found)) == len(mine) + len(theirs)
    assert [len(page) for page, _ in everyone] == [3, 3, 3, 3, 3, 2]


def test_edits_and_deletions_reach_the_index(users):
    writer = users["writer@example.com"]
    entry = entries.create_entry(writer, "herons")
    entries.update_entry(writer, entry.id, "swans")
    assert _contents(search.search(writer, "herons")) == []
    assert _contents(search.search(writer, "swans")) == ["swans"]
    entries.delete_entry(writer, entry.id)
    assert _contents(search.search(writer, "swans")) == []


@pytest.mark.parametrize("query", [
    '"', '"unclosed phrase', "AND", "OR", "NOT", "a AND", "(", ")", "*", "^x", "NEAR(a b)",
    "col:umn", "-", "--x", '-""', "a OR OR b", "''", "\\", "%", "_", "+", "x -", "{a b}",
])
def test_odd_queries_never_fail(users, query):
    writer = users["writer@example.com"]
    entries.create_entry(writer, "a plain entry with x and umn and column")
    search.search(writer, query)  # no exception: a result, maybe empty


def test_nothing_to_look_for_finds_nothing(users):
    writer = users["writer@example.com"]
    entries.create_entry(writer, "herons")
    assert search.search(writer, "-canal").hits == []
    assert search.search(writer, "%%%").hits == []
    assert search.search(writer, "nul\x00").hits == []


@pytest.mark.parametrize("query, page", [("", 1), ("   ", 1), ("x" * 201, 1), ("x", 0),
                                         ("x", 501)])
def test_bad_queries_are_refused_with_a_reason(users, query, page):
    with pytest.raises(search.InvalidQuery):
        search.search(users["writer@example.com"], query, page=page)


def test_the_query_parser_reads_websearch_syntax():
    assert search.parse('"grey herons" -canal or lake') == [
        [Term("grey herons"), Term("canal", exclude=True)], [Term("lake")]]
    assert search.parse("-only -exclusions") == []
    assert search.fts5_query(search.parse('say it"s -no')) == (
        '(("say" AND "it""s") NOT "no")')


def test_bad_cursors_are_refused():
    for cursor in ("", "x", entries.encode_cursor(Entry(id=1, created_at=_now()))):
        with pytest.raises(entries.InvalidCursor):
            search.decode_cursor(cursor)


def _now():
    from diary.models.types import utcnow

    return utcnow()


def test_one_writers_search_can_use_both_columns_of_the_search_index(users):
    """PostgreSQL can find a writer's matches in the GIN index on (user_id,
    search_vector) alone, both conditions in the index. A SMALLINT parameter for
    user_id once kept the index to the words (no SMALLINT = INTEGER operator in
    btree_gin), so each search ANDed them with the user's rows of the B-tree: with
    100,000 entries of theirs, 17 ms a search instead of 1 ms (bench/search)."""
    writer = users["writer@example.com"]
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan")
    entries.create_entry(writer, "herons")
    sql, params = search.statement("herons", search.parse("herons"), writer.id, 200, 0, 20,
                                   ("<", ">"))
    # In a transaction that is rolled back: no other way in than the search index.
    db.session.execute(sa.text("DROP INDEX ix_entry_user_id_created_at_id"))
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = [r[0] for r in db.session.execute(sa.text("EXPLAIN " + sql), params)]
    db.session.rollback()
    at = next(i for i, line in enumerate(plan) if "Index Scan on ix_entry_search_vector" in line)
    assert "user_id =" in plan[at + 1] and "search_vector @@" in plan[at + 1], "\n".join(plan)


def test_a_search_is_never_a_prepared_statement_on_postgresql(users):
    """psycopg prepares what it ran five times on a connection, and PostgreSQL may
    then plan it once for all queries: a generic plan read all of a common word's
    matches (15 ms a search instead of 1 ms, bench/search)."""
    writer = users["writer@example.com"]
    if db.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements")
    entries.create_entry(writer, "herons")
    for _ in range(8):
        assert len(search.search(writer, "herons").hits) == 1
    prepared = db.session.scalar(sa.text(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%websearch_to_tsquery%'"))
    assert prepared == 0
