"""How many SQL statements a signed-in request runs (issue 13): at most 3 for a
page, and for an API read 1 besides the token lookup.

Counted as ``bench/speed --show-sql`` counts them: a ``before_cursor_execute``
listener on the app's engine, over the second of two identical requests (the
first may write a session's or a token's last use, at most once a minute).
BEGIN, COMMIT and ROLLBACK are no statements of the cursor; Redis commands are
not SQL.

Where the suite runs on SQLite alone, the server-side session lives in the
database, so a page's count includes reading it (``SELECT session_store …``);
with Redis (``DIARY_TEST_REDIS_URL``) that read is a Redis command. Each page is
held to 3 in all, and to 2 besides the session read, on either engine: the
dashboard's first page too, whose "on this day" comes in the page's statement
(diary.services.archive.first_page), however long the diary.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import Entry, User
from diary.services import tags
from tests.api.conftest import login_auth_token, make_pat
from tests.conftest import AuthActions, csrf_token

EMAIL, PASSWORD = "writer@example.com", "writerpass"
PAGE_BUDGET = 3
API_BUDGET = 2
SESSION_READ = re.compile(r"^\s*SELECT\s+session_store\.", re.IGNORECASE)


def _write(app, count: int, *, earlier_years: int = 0) -> list[int]:
    """Give the writer ``count`` tagged entries of the last days and, on today's
    month and day, one entry in each of ``earlier_years`` earlier years; return
    the ids of the recent ones, newest first."""
    now = datetime.now(timezone.utc)
    with app.app_context():
        uid = db.session.scalar(sa.select(User.id).where(User.email == EMAIL))
        recent = []
        for i in range(count):
            stamp = now - timedelta(minutes=i + 1)
            recent.append(Entry(user_id=uid, content=f"recent {i} #walk #day{i % 3}",
                                created_at=stamp, updated_at=stamp))
        earlier = []
        for years in range(1, earlier_years + 1):
            try:
                stamp = now.replace(year=now.year - years)
            except ValueError:  # 29 February in a year that has none
                continue
            earlier.append(Entry(user_id=uid, content=f"years ago {years} #memories",
                                 created_at=stamp, updated_at=stamp))
        for entry in recent + earlier:
            tags.sync(entry)
        db.session.add_all(recent + earlier)
        db.session.commit()
        return [entry.id for entry in recent]


@pytest.fixture
def statements(app):
    """The SQL statements the app sends, as a list that ``counted`` fills."""
    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def listener(conn, cursor, statement, *rest):
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    yield sent
    sa.event.remove(engine, "before_cursor_execute", listener)


def counted(statements: list[str], request, status: int = 200):
    """Run ``request`` twice; return the second response and its statements."""
    for _ in range(2):
        statements.clear()
        response = request()
        assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response, list(statements)


def _assert_page(sent: list[str]) -> None:
    own = [s for s in sent if not SESSION_READ.match(s)]
    shown = "\n".join(s[:400] for s in sent)
    assert len(own) <= PAGE_BUDGET - 1, f"{len(own)} statements besides the session:\n{shown}"
    assert len(sent) <= PAGE_BUDGET, f"{len(sent)} statements:\n{shown}"


@pytest.fixture
def browser(app, demo_users):
    client = app.test_client()
    assert AuthActions(client).login(EMAIL, PASSWORD).status_code == 302
    return client


def test_dashboard_with_a_few_entries(app, browser, statements):
    _write(app, 10)
    response, sent = counted(statements, lambda: browser.get("/"))
    assert "recent 9" in response.get_data(as_text=True)
    _assert_page(sent)


def test_dashboard_longer_than_a_page_with_on_this_day(app, browser, statements):
    _write(app, app.config["ENTRIES_PER_PAGE"] + 5, earlier_years=4)
    response, sent = counted(statements, lambda: browser.get("/"))
    html = response.get_data(as_text=True)
    assert "On this day" in html and "years ago" in html
    _assert_page(sent)


def test_entry_page(app, browser, statements):
    entry_id = _write(app, 3)[0]
    response, sent = counted(statements, lambda: browser.get(f"/entry/{entry_id}"))
    assert "recent 0" in response.get_data(as_text=True)
    _assert_page(sent)


def test_account_page(browser, statements):
    _, sent = counted(statements, lambda: browser.get("/account"))
    _assert_page(sent)


def _api_read(client, headers, statements):
    response, sent = counted(statements, lambda: client.get("/api/v1/entries", headers=headers))
    items = response.get_json()["items"]
    assert [item["tags"] for item in items[:3]] == [
        ["day0", "walk"], ["day1", "walk"], ["day2", "walk"]
    ]
    shown = "\n".join(s[:400] for s in sent)
    assert len(sent) <= API_BUDGET, f"{len(sent)} statements:\n{shown}"


def test_api_read_with_a_personal_access_token(app, demo_users, statements):
    _write(app, 10)
    secret, _ = make_pat(app, EMAIL)
    _api_read(app.test_client(), {"Authorization": f"Bearer {secret}"}, statements)


def test_api_read_with_an_auth_token(app, demo_users, statements):
    _write(app, 10)
    token = login_auth_token(app, EMAIL, PASSWORD)["authentication_token"]
    _api_read(app.test_client(), {"Authentication-Token": token}, statements)


ENTRY_READ = re.compile(r"\bFROM entry\b", re.IGNORECASE)


def _entry_reads(sent: list[str]) -> list[str]:
    return [s for s in sent if s.lstrip().upper().startswith("SELECT") and ENTRY_READ.search(s)]


@pytest.fixture
def admin_browser(app, demo_users, mfa_policy_off):
    client = app.test_client()
    assert AuthActions(client).login("admin@example.com", "adminpass").status_code == 302
    return client


def test_deleting_somebody_elses_entry_reads_it_once(app, admin_browser, statements):
    entry_id = _write(app, 1)[0]  # the writer's
    token = csrf_token(admin_browser, "/")
    statements.clear()
    response = admin_browser.post(f"/delete_entry/{entry_id}",
                                  data={"csrf_token": token, "reason": "Reported as spam"})
    # Somebody else's entry: back to everyone's entries, which the view learns from
    # the deletion itself rather than from a read of its own.
    assert response.status_code == 302 and response.headers["Location"] == "/all"
    reads = _entry_reads(statements)
    assert len(reads) == 1, "\n".join(s[:300] for s in reads)


def test_an_edit_refused_for_its_content_reads_the_entry_once(app, admin_browser, statements):
    entry_id = _write(app, 1)[0]  # the writer's
    token = csrf_token(admin_browser, "/")
    statements.clear()
    response = admin_browser.post(f"/edit_entry/{entry_id}", data={
        "csrf_token": token, "reason": "Fixing a typo", "content": "x" * 100_000,
    })
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Fixing a typo" in html  # the editor again, with what was typed
    reads = _entry_reads(statements)
    assert len(reads) == 1, "\n".join(s[:300] for s in reads)
