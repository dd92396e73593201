"""The diary pages through the test client: entries, ownership, roles, CSRF, escaping."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import Entry
from tests.conftest import csrf_token
from tests.support.cursors import OUT_OF_RANGE_CURSORS


def count_entries(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Entry))


def post_entry(client, content: str):
    return client.post("/new_entry", data={"content": content, "csrf_token": csrf_token(client, "/")})


def entry_id_from(response) -> int:
    return int(re.search(r"/entry/(\d+)$", response.headers["Location"]).group(1))


@pytest.fixture
def writers(client, auth, make_user, app):
    """Two writers; the first has written one entry. Returns (first_entry_id, alice, bob)."""
    make_user("alice@example.com", "alice-password")
    make_user("bob@example.com", "bob-password")
    auth.login("alice@example.com", "alice-password")
    entry_id = entry_id_from(post_entry(client, "Alice's secret"))
    auth.logout()
    return entry_id


def test_create_entry_and_see_it_on_dashboard(client, auth, demo_users, app):
    auth.login()
    response = post_entry(client, "  Went for a walk by the river.  ")
    assert response.status_code == 302
    entry_id = entry_id_from(response)
    page = client.get(f"/entry/{entry_id}").get_data(as_text=True)
    assert "Went for a walk by the river." in page
    assert "Went for a walk by the river." in client.get("/").get_data(as_text=True)
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        assert entry.content == "Went for a walk by the river."  # stripped
        assert entry.created_at.tzinfo is not None
        assert entry.user_id == demo_users["writer@example.com"]


@pytest.mark.parametrize("content", ["", "   \n  ", "x" * 281])
def test_empty_and_too_long_entries_are_refused_with_nothing_stored(client, auth, demo_users, app, content):
    auth.login()
    response = post_entry(client, content)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert re.search(r'class="field-error"[^>]*>[^<]*(empty|at most 280)', html)
    assert count_entries(app) == 0


def test_exactly_280_characters_is_accepted(client, auth, demo_users, app):
    auth.login()
    assert post_entry(client, "y" * 280).status_code == 302
    assert count_entries(app) == 1


def test_too_long_refusal_keeps_what_was_typed(client, auth, demo_users):
    auth.login()
    html = post_entry(client, "keep me " * 40).get_data(as_text=True)
    assert "keep me keep me" in html


def test_entry_max_length_is_a_setting(database_url, tmp_path, demo_users):
    from diary import create_app
    from tests.conftest import AuthActions, base_config

    config = base_config(database_url, str(tmp_path / "i2"))
    config["ENTRY_MAX_LENGTH"] = 10
    client = create_app(config).test_client()
    AuthActions(client).login()
    assert post_entry(client, "x" * 11).status_code == 422
    assert post_entry(client, "x" * 10).status_code == 302


def test_another_writer_gets_403_on_view_edit_and_delete(client, auth, writers, app):
    entry_id = writers
    auth.login("bob@example.com", "bob-password")
    assert client.get(f"/entry/{entry_id}").status_code == 403
    assert client.get(f"/edit_entry/{entry_id}").status_code == 403
    token = csrf_token(client, "/")
    # A reason is no key: without entry:*-any, somebody else's entry stays closed.
    for path in (f"/entry/{entry_id}", f"/edit_entry/{entry_id}", f"/delete_entry/{entry_id}"):
        assert client.post(path, data={"reason": "Curious", "csrf_token": token}).status_code == 403, path
    response = client.post(f"/edit_entry/{entry_id}", data={"content": "pwned", "csrf_token": token})
    assert response.status_code == 403
    response = client.post(f"/delete_entry/{entry_id}", data={"csrf_token": token})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Entry, entry_id).content == "Alice's secret"
    assert "Alice&#39;s secret" not in client.get("/").get_data(as_text=True)
    assert client.get("/all").status_code == 403


def test_403_page_is_styled(client, auth, writers):
    auth.login("bob@example.com", "bob-password")
    html = client.get(f"/entry/{writers}").get_data(as_text=True)
    assert "This page is not yours to see" in html
    assert "Alice" not in html


def test_missing_entry_is_404(client, auth, demo_users, writers_may_edit):
    auth.login()
    assert client.get("/entry/999999").status_code == 404
    assert client.get("/edit_entry/999999").status_code == 404
    token = csrf_token(client, "/")
    assert client.post("/delete_entry/999999", data={"csrf_token": token}).status_code == 404
    for path in ("/entry/999999", "/edit_entry/999999"):
        assert client.post(path, data={"reason": "Why", "csrf_token": token}).status_code == 404, path


def test_owner_edits_and_deletes_own_entry(client, auth, writers, app, writers_may_edit):
    auth.login("alice@example.com", "alice-password")
    token = csrf_token(client, "/")
    response = client.post(f"/edit_entry/{writers}", data={"content": "Revised", "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.get(Entry, writers)
        assert entry.content == "Revised"
        assert entry.updated_at >= entry.created_at
    assert client.post(f"/delete_entry/{writers}", data={"csrf_token": token}).status_code == 302
    assert count_entries(app) == 0


def test_invalid_edit_changes_nothing(client, auth, writers, app, writers_may_edit):
    auth.login("alice@example.com", "alice-password")
    token = csrf_token(client, "/")
    response = client.post(f"/edit_entry/{writers}", data={"content": "", "csrf_token": token})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Entry, writers).content == "Alice's secret"


def test_admin_views_edits_and_deletes_any_entry(
    client, auth, writers, demo_users, app, mfa_policy_off
):
    auth.login("admin@example.com", "adminpass")
    token = csrf_token(client, "/")
    shown = client.post(f"/entry/{writers}", data={"reason": "Spam report", "csrf_token": token})
    assert "Alice&#39;s secret" in shown.get_data(as_text=True)
    response = client.post(f"/edit_entry/{writers}", data={
        "content": "Moderated", "reason": "Removing a phone number", "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.get(Entry, writers)
        assert entry.content == "Moderated"
        assert entry.user_id != demo_users["admin@example.com"]  # still Alice's
    response = client.post(f"/delete_entry/{writers}", data={"reason": "Spam", "csrf_token": token})
    assert response.status_code == 302
    assert count_entries(app) == 0


def test_post_without_csrf_token_is_400_and_changes_nothing(client, auth, writers, app):
    auth.login("alice@example.com", "alice-password")
    assert client.post("/new_entry", data={"content": "sneaky"}).status_code == 400
    assert client.post(f"/edit_entry/{writers}", data={"content": "sneaky"}).status_code == 400
    assert client.post(f"/delete_entry/{writers}").status_code == 400
    response = client.post("/new_entry", data={"content": "sneaky", "csrf_token": "forged"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(sa.select(Entry.content)).all() == ["Alice's secret"]


def test_script_in_entry_is_escaped(client, auth, demo_users, writers_may_edit):
    auth.login()
    entry_id = entry_id_from(post_entry(client, "<script>alert('x')</script>"))
    for path in ("/", f"/entry/{entry_id}", f"/edit_entry/{entry_id}"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;alert(" in html, path


def test_get_does_not_change_state(client, auth, writers, app, writers_may_edit):
    auth.login("alice@example.com", "alice-password")
    # GET /delete_entry/<id> only asks (see test_delete_asks_first…).
    assert client.get(f"/delete_entry/{writers}").status_code == 200
    assert client.get("/new_entry?content=x").status_code == 405
    assert count_entries(app) == 1


def test_dashboard_pages_20_entries_newest_first(client, auth, demo_users, app):
    from datetime import datetime, timedelta, timezone

    with app.app_context():
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        uid = demo_users["writer@example.com"]
        db.session.add_all(
            Entry(user_id=uid, content=f"entry number {i:02d}", created_at=start + timedelta(hours=i),
                  updated_at=start + timedelta(hours=i))
            for i in range(45)
        )
        db.session.commit()
    auth.login()
    seen = []
    html = client.get("/").get_data(as_text=True)
    while True:
        numbers = [int(n) for n in re.findall(r"entry number (\d+)", html)]
        assert len(numbers) <= 20
        seen += numbers
        more = re.search(r'href="(/\?before=[^"]+)" rel="next"', html)
        if not more:
            break
        html = client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert seen == list(range(44, -1, -1))


def test_bad_page_cursor_is_400(client, auth, demo_users):
    auth.login()
    assert client.get("/?before=not-a-cursor").status_code == 400


@pytest.mark.parametrize("cursor", OUT_OF_RANGE_CURSORS)
def test_out_of_range_page_cursor_is_400_not_500(client, auth, demo_users, mfa_policy_off, cursor):
    auth.login("admin@example.com", "adminpass")
    for page in ("/", "/all"):
        response = client.get(f"{page}?before={cursor}")
        assert response.status_code == 400, page
        assert "That page link is not valid." in response.get_data(as_text=True)


def test_writer_without_entries_sees_empty_state(client, auth, demo_users):
    auth.login()
    assert "No entries yet" in client.get("/").get_data(as_text=True)


def test_nav_shows_current_user_and_role(client, auth, demo_users, mfa_policy_off):
    auth.login("admin@example.com", "adminpass")
    html = client.get("/").get_data(as_text=True)
    assert "admin@example.com" in html and ">Admin</mark>" in html
    assert "Everyone&#39;s entries" in html or "Everyone's entries" in html


def test_unknown_page_is_styled_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Nothing here" in response.get_data(as_text=True)


@pytest.mark.parametrize("listing", ["/", "/all"])
def test_delete_buttons_on_entry_lists_work(client, auth, writers, demo_users, app, listing, mfa_policy_off, writers_may_edit):
    auth.login("alice@example.com", "alice-password") if listing == "/" else auth.login(
        "admin@example.com", "adminpass")
    html = client.get(listing).get_data(as_text=True)
    link = re.search(r'<a href="(/delete_entry/\d+)">Delete</a>', html)
    assert link, "no delete link"
    asking = client.get(link.group(1)).get_data(as_text=True)
    assert count_entries(app) == 1
    form = re.search(r'<form action="(/delete_entry/\d+)" method="post"[^>]*>\s*'
                     r'<input name="csrf_token" type="hidden" value="([^"]+)">', asking)
    assert form and form.group(1) == link.group(1), "no delete button on the question"
    response = client.post(form.group(1), data={"csrf_token": form.group(2)})
    if listing == "/all":
        # Alice's entry, deleted by the admin: the button asks for a reason first.
        assert response.status_code == 422
        assert "Why are you deleting this entry?" in response.get_data(as_text=True)
        assert count_entries(app) == 1
        response = client.post(form.group(1), data={"csrf_token": form.group(2), "reason": "Spam"})
    assert response.status_code == 302
    assert count_entries(app) == 0


def test_everyones_entries_pages_back_to_the_newest(client, auth, demo_users, app, mfa_policy_off):
    from datetime import datetime, timedelta, timezone

    with app.app_context():
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        db.session.add_all(
            Entry(user_id=demo_users["writer@example.com"], content=f"shared {i:02d}",
                  created_at=start + timedelta(hours=i), updated_at=start + timedelta(hours=i))
            for i in range(25)
        )
        db.session.commit()
        ids = db.session.scalars(sa.select(Entry.id).order_by(Entry.created_at)).all()
    auth.login("admin@example.com", "adminpass")
    first = client.get("/all").get_data(as_text=True)
    # Somebody else's entries are listed by writer and date, their content not shown.
    assert "shared" not in first
    assert f"Entry {ids[24]}:" in first and f"Entry {ids[4]}:" not in first and ">Newest<" not in first
    older = re.search(r'href="(/all\?before=[^"]+)" rel="next"', first).group(1)
    second = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert f"Entry {ids[4]}:" in second and f"Entry {ids[5]}:" not in second
    assert 'href="/all">Newest</a>' in second


def test_everyones_entries_offers_edit_and_delete_only_where_allowed(client, auth, writers, app,
                                                                     runner, writers_may_edit):
    runner.invoke(args=["roles", "add_permissions", "Writer", "entry:read-any"])
    auth.login("bob@example.com", "bob-password")
    bobs = entry_id_from(post_entry(client, "Bob's own"))
    html = client.get("/all").get_data(as_text=True)
    # Bob's own entry shows; Alice's is listed without its content.
    assert "Alice&#39;s secret" not in html and "Bob&#39;s own" in html
    assert f'href="/entry/{writers}"' in html
    assert f'href="/edit_entry/{bobs}"' in html and f'href="/delete_entry/{bobs}"' in html
    assert f'href="/edit_entry/{writers}"' not in html
    assert f'href="/delete_entry/{writers}"' not in html


# --- Owners' rights are permissions (issue 10) ---------------------------------------


def _actions_shown(client, entry_id) -> tuple[bool, bool]:
    pages = client.get("/").get_data(as_text=True) + client.get(f"/entry/{entry_id}").get_data(as_text=True)
    return f'href="/edit_entry/{entry_id}"' in pages, f'href="/delete_entry/{entry_id}"' in pages


def test_a_writer_edits_their_own_entries_only_while_the_role_may(client, auth, writers, app, runner):
    auth.login("alice@example.com", "alice-password")
    # The tutorial's role demo: a Writer reads and writes, but neither edits nor deletes.
    assert _actions_shown(client, writers) == (False, False)
    token = csrf_token(client, "/")
    assert client.get(f"/edit_entry/{writers}").status_code == 403
    refused = client.post(f"/edit_entry/{writers}", data={"content": "Revised", "csrf_token": token})
    assert refused.status_code == 403
    assert client.post(f"/delete_entry/{writers}", data={"csrf_token": token}).status_code == 403

    # An operator grants the two permissions: the next request may edit.
    result = runner.invoke(args=["roles", "add_permissions", "Writer",
                                 "entry:edit-own,entry:delete-own"])
    assert result.exit_code == 0, result.output
    assert _actions_shown(client, writers) == (True, True)
    edited = client.post(f"/edit_entry/{writers}", data={"content": "Revised", "csrf_token": token})
    assert edited.status_code == 302
    with app.app_context():
        assert db.session.get(Entry, writers).content == "Revised"

    # …and takes editing back: it stops at once.
    result = runner.invoke(args=["roles", "remove_permissions", "Writer", "entry:edit-own"])
    assert result.exit_code == 0, result.output
    assert _actions_shown(client, writers) == (False, True)
    again = client.post(f"/edit_entry/{writers}", data={"content": "Again", "csrf_token": token})
    assert again.status_code == 403
    with app.app_context():
        assert db.session.get(Entry, writers).content == "Revised"


# --- Delete asks first (issue 10) ------------------------------------------------------


def test_delete_asks_first_and_only_the_button_deletes(client, auth, writers, app, writers_may_edit):
    auth.login("alice@example.com", "alice-password")
    response = client.get(f"/delete_entry/{writers}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Delete this entry?" in html and "This cannot be undone." in html
    assert "Alice&#39;s secret" in html
    assert f'<form action="/delete_entry/{writers}" method="post">' in html
    assert f'href="/entry/{writers}">Cancel</a>' in html
    assert count_entries(app) == 1
    token = csrf_token(client, f"/delete_entry/{writers}")
    assert client.post(f"/delete_entry/{writers}", data={"csrf_token": token}).status_code == 302
    assert count_entries(app) == 0


def test_the_question_about_somebody_elses_entry_asks_why_without_showing_it(
    client, auth, writers, demo_users, app, mfa_policy_off
):
    auth.login("admin@example.com", "adminpass")
    html = client.get(f"/delete_entry/{writers}").get_data(as_text=True)
    assert "Why are you deleting this entry?" in html and "alice@example.com" in html
    assert f'<form action="/delete_entry/{writers}" method="post" novalidate>' in html
    assert 'name="reason"' in html and "Alice&#39;s secret" not in html
    assert count_entries(app) == 1


def test_the_question_follows_the_delete_rule(client, auth, writers, app, writers_may_edit):
    auth.login("bob@example.com", "bob-password")
    assert client.get(f"/delete_entry/{writers}").status_code == 403
    assert client.get("/delete_entry/999999").status_code == 404


def test_no_question_without_the_delete_permission(client, auth, writers):
    auth.login("alice@example.com", "alice-password")
    assert client.get(f"/delete_entry/{writers}").status_code == 403


def test_entry_forms_carry_the_counter_and_its_maximum(client, auth, writers, app, writers_may_edit):
    app.config["ENTRY_MAX_LENGTH"] = 120
    auth.login("alice@example.com", "alice-password")
    for path in ("/", f"/edit_entry/{writers}"):
        html = client.get(path).get_data(as_text=True)
        field = re.search(r"<textarea[^>]*>", html).group(0)
        assert 'data-counter' in field and 'maxlength="120"' in field, path
        assert '<script src="/static/js/char-counter.js"></script>' in html, path
    assert client.get("/static/js/char-counter.js").status_code == 200


# --- Access receipts (issue 10) ----------------------------------------------------


def access_events(app) -> list:
    """The entry:access:* audit events, oldest first, as (tag, user, actor, details)."""
    from diary.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.tag.like("entry:access:%")).order_by(AuditEvent.id)
        ).all()
        return [(e.tag, e.user_id, e.actor_id, e.details) for e in rows]


@pytest.fixture
def admin(client, auth, writers, demo_users, mfa_policy_off):
    """The demo Admin signed in (no second factor needed here); Alice's entry exists."""
    auth.login("admin@example.com", "adminpass")
    return client


def test_an_admin_gives_a_reason_before_another_writers_entry_is_shown(app, admin, writers, demo_users):
    page = admin.get(f"/entry/{writers}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Why do you need this entry?" in html and 'name="reason"' in html
    assert "Alice&#39;s secret" not in html and "alice@example.com" in html
    assert access_events(app) == []  # a GET changes nothing

    token = csrf_token(admin, "/")
    refused = admin.post(f"/entry/{writers}", data={"reason": "   ", "csrf_token": token})
    assert refused.status_code == 422
    assert "Alice&#39;s secret" not in refused.get_data(as_text=True)
    assert "Say why you need this entry" in refused.get_data(as_text=True)
    assert access_events(app) == []

    shown = admin.post(f"/entry/{writers}", data={"reason": "Checking a spam report", "csrf_token": token})
    assert shown.status_code == 200
    assert "Alice&#39;s secret" in shown.get_data(as_text=True)
    [(tag, owner, actor, details)] = access_events(app)
    assert (tag, owner, actor) == ("entry:access:read", demo_users["alice@example.com"],
                                   demo_users["admin@example.com"])
    assert details["reason"] == "Checking a spam report" and details["entry_id"] == writers
    assert "Alice" not in str(details)  # never the content


def test_the_writer_sees_who_read_their_entry_and_why(app, client, auth, admin, writers):
    from datetime import datetime, timezone

    from tests.conftest import sent_mails

    token = csrf_token(admin, "/")
    admin.post(f"/entry/{writers}", data={"reason": "Checking a spam report", "csrf_token": token})
    admin.post(f"/entry/{writers}", data={"reason": "A second look", "csrf_token": token})
    # One mail for the day: the first access; the second waits for the next digest.
    [mail] = [m for m in sent_mails(app) if m.to == ["alice@example.com"]]
    assert "(reason: Checking a spam report)" in mail.body and "A second look" not in mail.body
    auth.logout()
    auth.login("alice@example.com", "alice-password")
    html = client.get("/account/activity").get_data(as_text=True)
    today = datetime.now(timezone.utc)
    assert (f"admin@example.com read your entry of {today.day} {today:%B} "
            "(reason: Checking a spam report)") in html
    assert "(reason: A second look)" in html


def test_reading_ones_own_entry_records_nothing(app, client, auth, writers, demo_users, mfa_policy_off):
    auth.login("alice@example.com", "alice-password")
    assert "Alice&#39;s secret" in client.get(f"/entry/{writers}").get_data(as_text=True)
    auth.logout()
    # An admin's own entry, although entry:read-any would reach it too.
    auth.login("admin@example.com", "adminpass")
    own = entry_id_from(post_entry(client, "Admin's own note"))
    assert "Admin&#39;s own note" in client.get(f"/entry/{own}").get_data(as_text=True)
    assert access_events(app) == []


@pytest.mark.parametrize("reason", ["x" * 201, "two\nlines"])
def test_a_reason_is_one_short_line(app, admin, writers, reason):
    token = csrf_token(admin, "/")
    refused = admin.post(f"/entry/{writers}", data={"reason": reason, "csrf_token": token})
    assert refused.status_code == 422
    assert "Alice&#39;s secret" not in refused.get_data(as_text=True)
    assert access_events(app) == []


def test_the_reason_form_needs_its_csrf_token(app, admin, writers):
    assert admin.post(f"/entry/{writers}", data={"reason": "Spam"}).status_code == 400
    assert access_events(app) == []


def test_editing_another_writers_entry_asks_why_and_records_it(app, admin, writers):
    page = admin.get(f"/edit_entry/{writers}")
    assert page.status_code == 200
    assert "Why do you need to edit this entry?" in page.get_data(as_text=True)
    assert "Alice&#39;s secret" not in page.get_data(as_text=True)
    assert access_events(app) == []

    token = csrf_token(admin, "/")
    # The reason opens the editor: the content is shown, so it is a recorded read.
    editor = admin.post(f"/edit_entry/{writers}", data={"reason": "Phone number", "csrf_token": token})
    html = editor.get_data(as_text=True)
    assert editor.status_code == 200 and "Alice&#39;s secret" in html
    assert 'value="Phone number"' in html  # the reason goes along with the edit
    assert [e[0] for e in access_events(app)] == ["entry:access:read"]

    # Saving without a reason is refused and keeps what was typed.
    refused = admin.post(f"/edit_entry/{writers}", data={
        "content": "Alice's [number removed]", "reason": "", "csrf_token": token})
    assert refused.status_code == 422
    assert "Alice&#39;s [number removed]" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Entry, writers).content == "Alice's secret"
    assert len(access_events(app)) == 1

    saved = admin.post(f"/edit_entry/{writers}", data={
        "content": "Alice's [number removed]", "reason": "Phone number", "csrf_token": token})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(Entry, writers).content == "Alice's [number removed]"
    tag, _, _, details = access_events(app)[-1]
    assert tag == "entry:access:edit" and details["reason"] == "Phone number"
    assert "number removed" not in str(details)


def test_deleting_another_writers_entry_asks_why_and_records_it(app, admin, writers, demo_users):
    token = csrf_token(admin, "/")
    asked = admin.post(f"/delete_entry/{writers}", data={"csrf_token": token})
    assert asked.status_code == 422
    assert "Why are you deleting this entry?" in asked.get_data(as_text=True)
    assert count_entries(app) == 1 and access_events(app) == []

    done = admin.post(f"/delete_entry/{writers}", data={"csrf_token": token, "reason": "Spam"})
    assert done.status_code == 302 and done.headers["Location"] == "/all"
    assert count_entries(app) == 0
    [(tag, owner, actor, details)] = access_events(app)
    assert tag == "entry:access:delete" and owner == demo_users["alice@example.com"]
    assert details["entry_id"] == writers and details["reason"] == "Spam"
    assert len(details["entry_date"]) == 10  # an ISO date: the entry is gone, its date stays


def test_the_entry_page_deletes_with_the_reason_it_was_opened_for(app, admin, writers):
    token = csrf_token(admin, "/")
    html = admin.post(f"/entry/{writers}", data={"reason": "Spam", "csrf_token": token}).get_data(as_text=True)
    form = re.search(r'<form action="(/delete_entry/\d+)".*?</form>', html, re.S).group(0)
    assert 'name="reason"' in form and 'value="Spam"' in form
    assert admin.post(f"/delete_entry/{writers}", data={"csrf_token": token, "reason": "Spam"}).status_code == 302
    assert [e[0] for e in access_events(app)] == ["entry:access:read", "entry:access:delete"]
