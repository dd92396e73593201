"""GET /api/v1/entries?q=: full-text search through diary.services.search, the
same as the search pages'. (Named apart from test_views.py.)"""

from __future__ import annotations

import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, Entry, User
from diary.services.audit import AuditTag
from tests.api.conftest import problem_of


def _write(app, email, *contents) -> list[int]:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        made = [Entry(user_id=user.id, content=c) for c in contents]
        db.session.add_all(made)
        db.session.commit()
        return [e.id for e in made]


def _contents(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["content"] for item in response.get_json()["items"]]


def test_q_is_ranked_full_text_search(app, api_login, way, demo_users):
    _write(app, "writer@example.com", "We walked to the herons by the canal.",
           "Herons at the lake, grey herons everywhere.", "Nothing today.")
    _write(app, "test@me.com", "Their herons, walked and watched.")
    api = api_login(way)
    assert _contents(api.get("/api/v1/entries?q=walking")) == [
        "We walked to the herons by the canal."]
    assert _contents(api.get("/api/v1/entries", query_string={"q": '"herons" -canal'})) == [
        "Herons at the lake, grey herons everywhere."]
    # Best match first: two herons before one.
    assert _contents(api.get("/api/v1/entries?q=herons")) == [
        "Herons at the lake, grey herons everywhere.", "We walked to the herons by the canal."]


def test_q_pages_with_opaque_cursors(app, api_login, demo_users):
    made = _write(app, "writer@example.com", *[f"walk {i}" for i in range(5)])
    api = api_login("pat")
    seen, cursor = [], None
    for _ in range(3):
        url = "/api/v1/entries?q=walk&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url).get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
    assert seen == made[::-1] and cursor is None
    # A list cursor is no search cursor, nor the other way round.
    listed = api.get("/api/v1/entries?limit=2").get_json()["next_cursor"]
    problem_of(api.get(f"/api/v1/entries?q=walk&cursor={listed}"), 400)
    searched = api.get("/api/v1/entries?q=walk&limit=2").get_json()["next_cursor"]
    problem_of(api.get(f"/api/v1/entries?cursor={searched}"), 400)


def test_odd_and_empty_queries(app, api_login, demo_users):
    _write(app, "writer@example.com", "a plain entry")
    api = api_login("pat")
    for query in ('"', "NOT", "a AND", "NEAR(a b)", "*", "-plain", "%"):
        assert _contents(api.get("/api/v1/entries", query_string={"q": query})) == []
    body = problem_of(api.get("/api/v1/entries?q=%20%20"), 400)
    assert body["type"] == "/api/v1/problems/invalid-query"
    assert "q" in body["errors"]


def test_q_with_user_needs_read_any_and_a_reason_and_records_reads(
    app, api_login, demo_users, mfa_policy_off
):
    [theirs] = _write(app, "test@me.com", "Their herons")
    writer = api_login("pat")
    problem_of(writer.get(f"/api/v1/entries?q=herons&user={demo_users['test@me.com']}"), 403)

    admin = api_login("session", "admin@example.com")
    url = f"/api/v1/entries?q=herons&user={demo_users['test@me.com']}"
    problem_of(admin.get(url), 400)
    found = admin.get(url, headers={"Diary-Access-Reason": "Abuse report 7"})
    assert [item["id"] for item in found.get_json()["items"]] == [theirs]
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.tag == str(AuditTag.ENTRY_ACCESS_READ))).all()
        assert [(e.user_id, e.details["entry_id"], e.details["reason"]) for e in events] == [
            (demo_users["test@me.com"], theirs, "Abuse report 7")]


def test_the_openapi_document_says_q_is_a_search(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    [q] = [p for p in spec["paths"]["/api/v1/entries"]["get"]["parameters"] if p["name"] == "q"]
    assert "Full-text search" in q["description"]



def test_search_and_the_tag_filter_are_not_combined(app, api_login, demo_users):
    [entry_id] = _write(app, "writer@example.com", "herons #birds")
    with app.app_context():
        from diary.services import tags

        tags.sync(db.session.get(Entry, entry_id))
        db.session.commit()
    api = api_login("pat")
    assert _contents(api.get("/api/v1/entries?tag=birds")) == ["herons #birds"]
    body = problem_of(api.get("/api/v1/entries?q=herons&tag=birds"), 400)
    assert body["type"] == "/api/v1/problems/invalid-query"
    assert "tag" in body["errors"]


def test_a_search_takes_no_date_filter(app, api_login, demo_users):
    api = api_login("pat")
    body = problem_of(api.get("/api/v1/entries?q=herons&from=2026-01-01"), 400)
    assert body["type"] == "/api/v1/problems/invalid-query"
    assert body["errors"] == {"from": ["Not together with q."]}
