"""Flask-Security wiring: what each request costs beyond the library's defaults."""

from __future__ import annotations

import re

import sqlalchemy as sa

from diary.extensions import db


def test_static_files_load_no_user(client, auth, app, make_user):
    make_user("static@example.com")
    auth.login("static@example.com", "a-long-password")
    seen: list[str] = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    assert client.get("/static/css/diary.css").status_code == 200
    assert seen == []
    # A page still loads the user (and so notices a deactivated account at once).
    assert client.get("/").status_code == 200
    # (SQLite leaves the table name unquoted, PostgreSQL quotes it.)
    assert any(re.search(r'FROM "?user"?\s', statement) for statement in seen), seen
