"""Every endpoint of /api/v1, for each of the three ways in, and the ownership rule
(IDOR): another writer's entry is 403 for GET, PATCH and DELETE and never listed."""

from __future__ import annotations

import sqlalchemy as sa

from diary.extensions import db
from diary.models import Entry, User
from tests.api.conftest import problem_of


def _entry(app, email, content):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        entry = Entry(user_id=user.id, content=content)
        db.session.add(entry)
        db.session.commit()
        return entry.id


def test_me_says_who_and_how(api_login, way, demo_users):
    api = api_login(way)
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    body = response.get_json()
    assert body["email"] == "writer@example.com"
    assert body["id"] == demo_users["writer@example.com"]
    assert body["roles"] == ["Writer"]
    assert "entry:create" in body["permissions"]
    assert body["auth_method"] == {"pat": "personal-access-token"}.get(way, way)
    if way == "pat":
        assert body["scopes"] == ["entries:read", "entries:write"]
    else:
        assert body["scopes"] is None


def test_create_read_update_delete(api_login, way, demo_users, writers_may_edit):
    api = api_login(way)
    created = api.post("/api/v1/entries", json={"content": "  Walked the dog.  "})
    assert created.status_code == 201
    entry = created.get_json()
    assert entry["content"] == "Walked the dog."
    assert entry["user_id"] == demo_users["writer@example.com"]
    assert created.headers["Location"] == f"/api/v1/entries/{entry['id']}"

    fetched = api.get(f"/api/v1/entries/{entry['id']}")
    assert fetched.status_code == 200
    assert fetched.get_json() == entry

    patched = api.patch(f"/api/v1/entries/{entry['id']}", json={"content": "Walked the cat."})
    assert patched.status_code == 200
    assert patched.get_json()["content"] == "Walked the cat."

    deleted = api.delete(f"/api/v1/entries/{entry['id']}")
    assert deleted.status_code == 204
    assert deleted.get_data() == b""
    problem_of(api.get(f"/api/v1/entries/{entry['id']}"), 404)


def test_list_is_own_newest_first_with_cursor_pages(app, api_login, way, demo_users):
    ids = [_entry(app, "writer@example.com", f"entry {i}") for i in range(5)]
    _entry(app, "test@me.com", "somebody else's")
    api = api_login(way)
    first = api.get("/api/v1/entries?limit=2").get_json()
    assert [e["id"] for e in first["items"]] == ids[::-1][:2]
    second = api.get(f"/api/v1/entries?limit=2&cursor={first['next_cursor']}").get_json()
    third = api.get(f"/api/v1/entries?limit=2&cursor={second['next_cursor']}").get_json()
    seen = [e["id"] for page in (first, second, third) for e in page["items"]]
    assert seen == ids[::-1]
    assert third["next_cursor"] is None


def test_list_default_limit_and_q_filter(app, api_login, way, demo_users):
    _entry(app, "writer@example.com", "Bought 100% rye bread")
    _entry(app, "writer@example.com", "Rain all day")
    _entry(app, "writer@example.com", "bread again")
    api = api_login(way)
    everything = api.get("/api/v1/entries").get_json()
    assert len(everything["items"]) == 3 and everything["next_cursor"] is None
    bread = api.get("/api/v1/entries?q=BREAD").get_json()["items"]
    assert [e["content"] for e in bread] == ["bread again", "Bought 100% rye bread"]
    # LIKE wildcards in q are matched literally.
    assert [e["content"] for e in api.get("/api/v1/entries?q=100%25").get_json()["items"]] == [
        "Bought 100% rye bread"
    ]
    assert api.get("/api/v1/entries?q=_").get_json()["items"] == []


def test_user_filter_needs_read_any(app, api_login, way, demo_users, mfa_policy_off):
    other = _entry(app, "test@me.com", "test user's entry")
    writer = api_login(way)
    problem_of(writer.get(f"/api/v1/entries?user={demo_users['test@me.com']}"), 403)
    own = writer.get(f"/api/v1/entries?user={demo_users['writer@example.com']}")
    assert own.status_code == 200

    admin = api_login(way, "admin@example.com")
    why = {"Diary-Access-Reason": "Support ticket 12"}
    listed = admin.get(f"/api/v1/entries?user={demo_users['test@me.com']}", headers=why).get_json()
    assert [e["id"] for e in listed["items"]] == [other]
    # An unknown user id is an empty list, not an error that would confirm anything.
    assert admin.get("/api/v1/entries?user=999999", headers=why).get_json()["items"] == []


def test_idor_another_writers_entry_is_403_and_never_listed(app, api_login, way, demo_users):
    theirs = _entry(app, "test@me.com", "private thought")
    api = api_login(way)  # writer@example.com, no *-any permission

    body = problem_of(api.get(f"/api/v1/entries/{theirs}"), 403)
    assert "private thought" not in str(body)
    problem_of(api.patch(f"/api/v1/entries/{theirs}", json={"content": "pwned"}), 403)
    problem_of(api.delete(f"/api/v1/entries/{theirs}"), 403)
    listed = api.get("/api/v1/entries?limit=100").get_json()["items"]
    assert theirs not in [e["id"] for e in listed]
    assert api.get("/api/v1/entries?q=private").get_json()["items"] == []
    with app.app_context():
        assert db.session.get(Entry, theirs).content == "private thought"


def test_admin_may_read_edit_and_delete_any_entry(app, api_login, way, demo_users, mfa_policy_off):
    theirs = _entry(app, "test@me.com", "private thought")
    admin = api_login(way, "admin@example.com")
    why = {"Diary-Access-Reason": "Spam report"}
    assert admin.get(f"/api/v1/entries/{theirs}", headers=why).status_code == 200
    assert admin.patch(f"/api/v1/entries/{theirs}", json={"content": "moderated"},
                       headers=why).status_code == 200
    assert admin.delete(f"/api/v1/entries/{theirs}", headers=why).status_code == 204


def test_patch_with_stale_expected_updated_at_is_409(app, api_login, way, demo_users, writers_may_edit):
    api = api_login(way)
    entry = api.post("/api/v1/entries", json={"content": "first"}).get_json()
    fresh = api.patch(
        f"/api/v1/entries/{entry['id']}",
        json={"content": "second", "expected_updated_at": entry["updated_at"]},
    )
    assert fresh.status_code == 200
    stale = api.patch(
        f"/api/v1/entries/{entry['id']}",
        json={"content": "third", "expected_updated_at": entry["updated_at"]},
    )
    problem_of(stale, 409)
    assert api.get(f"/api/v1/entries/{entry['id']}").get_json()["content"] == "second"


def test_token_requests_set_no_session_cookie(api_login, demo_users):
    for way in ("pat", "auth-token"):
        api = api_login(way)
        response = api.get("/api/v1/me")
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, way


def test_answers_are_never_cached(api_login, way, demo_users):
    api = api_login(way)
    assert "no-store" in api.get("/api/v1/me").headers["Cache-Control"].split(", ")
    assert "no-store" in api.get("/api/v1/entries").headers["Cache-Control"].split(", ")
    assert "no-store" in api.get("/api/v1/entries/1").headers["Cache-Control"].split(", ")  # 404 too


def test_admin_without_a_second_factor_gets_only_writer_rights(app, api_login, way, demo_users):
    """MFA_REQUIRED_ROLES (default Admin) applies to the API as to the pages: an
    admin who has not set up a second factor cannot use the extra permissions."""
    assert app.config["MFA_REQUIRED_ROLES"] == ["Admin"]
    theirs = _entry(app, "test@me.com", "private thought")
    admin = api_login(way, "admin@example.com")
    problem_of(admin.get(f"/api/v1/entries/{theirs}"), 403)
    problem_of(admin.get(f"/api/v1/entries?user={demo_users['test@me.com']}"), 403)
    assert admin.get("/api/v1/entries").status_code == 200  # own entries still fine


# --- Access receipts (issue 10) ----------------------------------------------------


def _access_events(app):
    from diary.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.tag.like("entry:access:%")).order_by(AuditEvent.id)
        ).all()
        return [(e.tag, e.user_id, e.actor_id, e.details) for e in rows]


def test_another_users_entry_needs_a_reason_header(app, api_login, way, demo_users, mfa_policy_off):
    theirs = _entry(app, "test@me.com", "private thought")
    admin = api_login(way, "admin@example.com")
    for response in (
        admin.get(f"/api/v1/entries/{theirs}"),
        admin.get(f"/api/v1/entries/{theirs}", headers={"Diary-Access-Reason": "  "}),
        admin.patch(f"/api/v1/entries/{theirs}", json={"content": "moderated"}),
        admin.delete(f"/api/v1/entries/{theirs}"),
        admin.get(f"/api/v1/entries?user={demo_users['test@me.com']}"),
    ):
        body = problem_of(response, 400)
        assert body["type"] == "/api/v1/problems/access-reason-required"
        assert "Diary-Access-Reason" in body["detail"] and "private thought" not in str(body)
    with app.app_context():
        assert db.session.get(Entry, theirs).content == "private thought"
    assert _access_events(app) == []


def test_the_reason_header_is_recorded_for_the_owner(app, api_login, way, demo_users, mfa_policy_off):
    theirs = _entry(app, "test@me.com", "private thought")
    admin = api_login(way, "admin@example.com")
    # Percent-encoded UTF-8 carries what a header cannot.
    why = {"Diary-Access-Reason": "Abuse report %E2%84%96 7"}
    assert admin.get(f"/api/v1/entries/{theirs}", headers=why).get_json()["content"] == "private thought"
    listed = admin.get(f"/api/v1/entries?user={demo_users['test@me.com']}", headers=why)
    assert [e["id"] for e in listed.get_json()["items"]] == [theirs]
    assert admin.patch(f"/api/v1/entries/{theirs}", json={"content": "moderated"}, headers=why).status_code == 200
    assert admin.delete(f"/api/v1/entries/{theirs}", headers=why).status_code == 204
    events = _access_events(app)
    assert [tag for tag, *_ in events] == [
        "entry:access:read", "entry:access:read", "entry:access:edit", "entry:access:delete"]
    for _, owner, actor, details in events:
        assert owner == demo_users["test@me.com"] and actor == demo_users["admin@example.com"]
        assert details["reason"] == "Abuse report \u2116 7" and details["entry_id"] == theirs


def test_the_owner_sees_an_api_read_on_their_activity_page(app, api_login, client, auth, demo_users,
                                                           mfa_policy_off):
    theirs = _entry(app, "test@me.com", "private thought")
    admin = api_login("pat", "admin@example.com")
    assert admin.get(f"/api/v1/entries/{theirs}",
                     headers={"Diary-Access-Reason": "Support ticket 12"}).status_code == 200
    auth.login("test@me.com", "password")
    html = client.get("/account/activity").get_data(as_text=True)
    assert "admin@example.com read your entry of" in html and "(reason: Support ticket 12)" in html


def test_own_entries_need_no_reason_and_record_nothing(app, api_login, way, demo_users, mfa_policy_off):
    admin = api_login(way, "admin@example.com")
    own = admin.post("/api/v1/entries", json={"content": "mine"}).get_json()["id"]
    assert admin.get(f"/api/v1/entries/{own}").status_code == 200
    assert admin.get(f"/api/v1/entries?user={demo_users['admin@example.com']}").status_code == 200
    assert admin.patch(f"/api/v1/entries/{own}", json={"content": "still mine"}).status_code == 200
    assert admin.delete(f"/api/v1/entries/{own}").status_code == 204
    assert _access_events(app) == []


# --- the date filter -----------------------------------------------------------------

def _dated(app, email, *stamps):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        rows = [Entry(user_id=user.id, content=f"on {s.isoformat()}", created_at=s, updated_at=s)
                for s in stamps]
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


def test_from_and_to_are_whole_days_of_the_callers_time_zone(api_login, app, demo_users):
    from datetime import datetime, timezone

    utc = timezone.utc
    last_of_may, first_of_june, second_of_june, _ = _dated(
        app, "writer@example.com",
        datetime(2026, 5, 31, 21, 30, tzinfo=utc),  # 23:30 on 31 May in Berlin
        datetime(2026, 5, 31, 23, 30, tzinfo=utc),  # 01:30 on 1 June in Berlin
        datetime(2026, 6, 2, 12, tzinfo=utc),
        datetime(2026, 6, 3, 22, 30, tzinfo=utc),  # 00:30 on 4 June in Berlin
    )
    _dated(app, "test@me.com", datetime(2026, 6, 1, 12, tzinfo=utc))
    api = api_login("pat")

    def ids(query):
        response = api.get(f"/api/v1/entries?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [e["id"] for e in response.get_json()["items"]]

    # UTC until the writer chooses a zone: 31 May holds both early entries.
    assert ids("from=2026-05-31&to=2026-05-31") == [first_of_june, last_of_may]
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "writer@example.com"))
        user.time_zone = "Europe/Berlin"
        db.session.commit()
    assert ids("from=2026-06-01&to=2026-06-03") == [second_of_june, first_of_june]
    assert ids("to=2026-05-31") == [last_of_may]
    assert ids("from=2026-06-02&limit=1") == ids("from=2026-06-02")[:1]
    assert ids("from=0001-01-01&to=9999-12-31") == ids("")


def test_a_bad_day_or_range_is_refused(api_login, demo_users):
    api = api_login("pat")
    for query, field in (("from=2026-02-30", "from"), ("to=tomorrow", "to"),
                         ("from=2026-05-02&to=2026-05-01", "to")):
        body = problem_of(api.get(f"/api/v1/entries?{query}"), 422)
        assert body["type"] == "/api/v1/problems/validation-error"
        assert field in body["errors"], body
