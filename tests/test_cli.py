"""``flask --app diary …`` commands: Diary's ``demo-data`` and Flask-Security's
``roles`` commands working on Diary's roles."""

from __future__ import annotations

import sqlalchemy as sa

from diary.extensions import db
from diary.models import Role, User
from tests.conftest import AuthActions, csrf_token


def users_by_email(app) -> dict[str, User]:
    with app.app_context():
        return {u.email: u for u in db.session.scalars(sa.select(User))}


def test_demo_data_creates_the_tutorial_accounts(app, runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert result.output.count("created") == 3
    with app.app_context():
        users = {u.email: u for u in db.session.scalars(sa.select(User))}
        assert sorted(users) == ["admin@example.com", "test@me.com", "writer@example.com"]
        assert all(u.confirmed_at is not None and u.active for u in users.values())
        assert [r.name for r in users["admin@example.com"].roles] == ["Admin"]
        assert [r.name for r in users["writer@example.com"].roles] == ["Writer"]
        assert [r.name for r in users["test@me.com"].roles] == ["Writer"]
        assert users["test@me.com"].username == "Test User"


def test_demo_data_prints_the_demo_credentials_warning(runner):
    result = runner.invoke(args=["demo-data"])
    assert "WARNING: these are demo credentials" in result.stderr
    assert "test@me.com" in result.stdout and "password" in result.stdout


def test_demo_data_is_idempotent_and_resets_no_password(app, runner, client):
    runner.invoke(args=["demo-data"])
    before = {e: (u.id, u.password) for e, u in users_by_email(app).items()}
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0
    assert result.output.count("created") == 0 and result.output.count("exists") == 3
    assert {e: (u.id, u.password) for e, u in users_by_email(app).items()} == before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Role)) == 2


def test_demo_accounts_can_log_in(runner, client):
    runner.invoke(args=["demo-data"])
    auth = AuthActions(client)
    for email, password in [("test@me.com", "password"), ("admin@example.com", "adminpass"),
                            ("writer@example.com", "writerpass")]:
        assert auth.login(email, password).status_code == 302, email
        auth.logout()


def writer_entry_and_other_writer(client, make_user):
    """Alice writes an entry; return its id. Bob is another writer."""
    from tests.conftest import csrf_token

    make_user("alice@example.com", "alice-password")
    make_user("bob@example.com", "bob-password")
    auth = AuthActions(client)
    auth.login("alice@example.com", "alice-password")
    response = client.post("/new_entry", data={"content": "Alice's day",
                                               "csrf_token": csrf_token(client, "/")})
    auth.logout()
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_roles_add_permissions_lets_writers_read_any_entry(app, runner, client, make_user):
    entry_id = writer_entry_and_other_writer(client, make_user)
    auth = AuthActions(client)
    auth.login("bob@example.com", "bob-password")
    assert client.get(f"/entry/{entry_id}").status_code == 403

    result = runner.invoke(args=["roles", "add_permissions", "Writer", "entry:read-any"])
    assert result.exit_code == 0, result.output

    # Somebody else's entry is shown for a reason (an access receipt).
    assert client.get(f"/entry/{entry_id}").status_code == 200
    response = client.post(f"/entry/{entry_id}", data={
        "reason": "Curious", "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 200
    assert "Alice&#39;s day" in response.get_data(as_text=True)
    # Reading is all that was granted.
    assert client.get(f"/edit_entry/{entry_id}").status_code == 403


def test_roles_remove_permissions_takes_it_back(app, runner, client, make_user):
    entry_id = writer_entry_and_other_writer(client, make_user)
    runner.invoke(args=["roles", "add_permissions", "Writer", "entry:read-any"])
    runner.invoke(args=["roles", "remove_permissions", "Writer", "entry:read-any"])
    AuthActions(client).login("bob@example.com", "bob-password")
    assert client.get(f"/entry/{entry_id}").status_code == 403


# --- flask --app diary audit prune ---------------------------------------------------


def test_audit_prune_deletes_old_events_and_records_it(app, runner):
    from datetime import timedelta

    from diary.models import AuditEvent
    from diary.models.types import utcnow

    with app.app_context():
        now = utcnow()
        db.session.add_all([
            AuditEvent(tag="account:login:success", created_at=now - timedelta(days=400)),
            AuditEvent(tag="account:login:success", created_at=now - timedelta(days=366)),
            AuditEvent(tag="account:login:success", created_at=now - timedelta(days=300)),
        ])
        db.session.commit()
    result = runner.invoke(args=["audit", "prune", "--older-than", "365d"])
    assert result.exit_code == 0, result.output
    assert "deleted 2 audit events older than 365 days" in result.output
    with app.app_context():
        tags = [e.tag for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]
        assert tags == ["account:login:success", "audit_log:pruned"]
        pruned = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.tag == "audit_log:pruned"))
        assert pruned.details["deleted"] == 2


def test_audit_prune_reads_hours_and_refuses_nonsense(app, runner):
    assert runner.invoke(args=["audit", "prune", "--older-than", "12h"]).exit_code == 0
    for bad in ("365", "0d", "-1d", "a year", "5w"):
        result = runner.invoke(args=["audit", "prune", "--older-than", bad])
        assert result.exit_code == 2, bad
        assert "is not a duration" in result.output
    assert runner.invoke(args=["audit", "prune"]).exit_code == 2  # --older-than is required


# --- import-entries ------------------------------------------------------------------

DAY_ONE_FILE = "tests/data/dayone.json"


def entry_texts(app, email):
    from diary.models import Entry

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        return [e.content for e in db.session.scalars(
            sa.select(Entry).where(Entry.user_id == user.id).order_by(Entry.created_at))]


def test_import_entries_dry_run_shows_the_preview_and_imports_nothing(app, runner, demo_users):
    result = runner.invoke(args=["import-entries", "writer@example.com", DAY_ONE_FILE, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Day One export: 3 to import, 0 duplicates and 1 without text to skip." in result.output
    assert "Written from 2023-03-14 to 2024-01-01 (UTC)." in result.output
    assert "2023-03-14T07:12:45.000000Z  Saw a heron by the canal" in result.output
    assert "Dry run: nothing was imported." in result.output
    assert entry_texts(app, "writer@example.com") == []


def test_import_entries_imports_and_skips_duplicates_the_second_time(app, runner, demo_users):
    args = ["import-entries", "WRITER@example.com", DAY_ONE_FILE]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert result.output == ("Imported 3 entries from the Day One export; skipped 0 "
                             "duplicates and 1 without text.\n")
    assert len(entry_texts(app, "writer@example.com")) == 3
    again = runner.invoke(args=args)
    assert "Imported 0 entries from the Day One export; skipped 3 duplicates" in again.output
    assert len(entry_texts(app, "writer@example.com")) == 3


def test_import_entries_refuses_a_bad_file_and_an_unknown_account(app, runner, demo_users, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "diary-export", "version": 2, "entries": []}')
    result = runner.invoke(args=["import-entries", "writer@example.com", str(bad)])
    assert result.exit_code == 1
    assert ("version: this file is version 2 of the Diary export format; this Diary reads "
            "version 1. Nothing was imported.") in result.output
    result = runner.invoke(args=["import-entries", "nobody@example.com", DAY_ONE_FILE])
    assert result.exit_code == 1 and "No account has the address nobody@example.com." in result.output
    assert entry_texts(app, "writer@example.com") == []
