"""The database: the migrated schema is the models' schema, on SQLite and
PostgreSQL, with the connection settings and indexes Diary relies on."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from diary import database
from diary.extensions import db
from diary.models import Role, User
from tests.api.conftest import make_pat
from tests.conftest import csrf_token

SRC = Path(database.__file__).resolve().parent


def test_migrated_schema_matches_the_models(app):
    """What ``flask --app diary db check`` does: autogenerate finds nothing to add."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True,
                        # As env.py: the search index is outside the models.
                        "include_name": database.include_name})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_flask_db_check_agrees(runner):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_migrations_are_at_head(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate  # noqa: F401  (configured by the app)

    with app.app_context(), db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
        config = app.extensions["migrate"].migrate.get_config(database.MIGRATIONS_DIR)
        heads = ScriptDirectory.from_config(config).get_heads()
    assert set(current) == set(heads) and len(heads) == 1


def test_dashboard_index_on_user_created_at_id_exists(app):
    with app.app_context():
        indexes = sa.inspect(db.engine).get_indexes("entry")
    columns = {tuple(ix["column_names"]) for ix in indexes}
    assert ("user_id", "created_at", "id") in columns
    assert ("created_at", "id") in columns


def test_dashboard_query_uses_the_index(app, make_user):
    """The database plans page 1 of the dashboard through the entry index."""
    from diary.models import Entry

    uid = make_user("alice@example.com")
    with app.app_context():
        query = (sa.select(Entry).where(Entry.user_id == uid)
                 .order_by(Entry.created_at.desc(), Entry.id.desc()).limit(21))
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(str(r) for r in db.session.execute(
                sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
        else:
            db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(r[0] for r in db.session.execute(sa.text(f"EXPLAIN {compiled}")))
        db.session.rollback()
    assert "ix_entry_user_id_created_at_id" in plan


@pytest.fixture
def sqlite_only(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite connection settings")
    return app


def test_sqlite_foreign_keys_and_wal_are_on(sqlite_only):
    with sqlite_only.app_context():
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(sa.text("PRAGMA busy_timeout")).scalar() == 5000


def test_foreign_keys_are_enforced(app):
    from diary.models import Entry
    from diary.models.types import utcnow

    with app.app_context():
        db.session.add(Entry(user_id=987654, content="orphan", created_at=utcnow(),
                             updated_at=utcnow()))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_deleting_a_user_deletes_their_entries(app, make_user):
    from diary.models import Entry, User
    from diary.services import entries

    uid = make_user("alice@example.com")
    with app.app_context():
        from diary.services import credentials

        entries.create_entry(credentials.for_user(db.session.get(User, uid)), "gone with me")
        # Plain SQL, no ORM cascade: the database itself removes the entries.
        db.session.execute(sa.text("DELETE FROM roles_users WHERE user_id = :u"), {"u": uid})
        db.session.execute(sa.delete(User).where(User.id == uid))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)) == 0


def test_the_app_never_creates_tables_itself():
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if "create_all(" in p.read_text()]
    assert offenders == []


# --- Pages that only read run without a transaction (database.reads_only) ----------


def _backend(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def _in_transaction(dbapi_connection) -> bool:
    """Whether the driver's connection is inside a database transaction."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        return dbapi_connection.in_transaction
    return dbapi_connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


@pytest.fixture
def statement_modes(app):
    """Record, for each SQL statement the app runs, the isolation level it ran
    under ("AUTOCOMMIT" or the backend's default), its verb, and whether the
    database connection was inside a transaction after it; return the list,
    emptied by the test when it wants to look at one request only.

    The session store's statements are left out: they run on a connection of their
    own (diary.security.session_store, tested there)."""
    modes: list[tuple[str, str, bool]] = []

    def record(conn, _cursor, statement, *_args):
        if "session_store" in statement:
            return
        level = conn.get_execution_options().get("isolation_level", "default")
        in_transaction = _in_transaction(conn.connection.dbapi_connection)
        modes.append((level, statement.split()[0].upper(), in_transaction))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", record)
    yield modes
    sa.event.remove(engine, "after_cursor_execute", record)


def test_the_dashboard_reads_without_a_transaction(app, client, auth, demo_users, statement_modes):
    auth.login()
    client.post("/new_entry", data={"content": "hello", "csrf_token": csrf_token(client, "/")})
    statement_modes.clear()
    assert client.get("/").status_code == 200
    assert statement_modes, "the dashboard ran no statement"
    assert {verb for _, verb, _ in statement_modes} == {"SELECT"}
    assert not any(in_transaction for _, _, in_transaction in statement_modes)
    if _backend(app) == "postgresql":
        assert {level for level, _, _ in statement_modes} == {"AUTOCOMMIT"}


def test_a_post_still_runs_in_a_transaction(client, auth, demo_users, statement_modes):
    auth.login()
    token = csrf_token(client, "/")
    statement_modes.clear()
    response = client.post("/new_entry", data={"content": "in a transaction", "csrf_token": token})
    assert response.status_code == 302
    assert ("default", "INSERT", True) in statement_modes
    assert all(level != "AUTOCOMMIT" for level, _, _ in statement_modes)


def test_an_api_read_runs_without_a_transaction(app, client, demo_users, statement_modes):
    secret, _ = make_pat(app, "writer@example.com")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/entries", headers=headers).status_code == 200
    statement_modes.clear()
    for path in ("/api/v1/entries", "/api/v1/me", "/api/v1/tags"):
        assert client.get(path, headers=headers).status_code == 200, path
    assert {verb for _, verb, _ in statement_modes} == {"SELECT"}
    assert not any(in_transaction for _, _, in_transaction in statement_modes)
    if _backend(app) == "postgresql":
        assert {level for level, _, _ in statement_modes} == {"AUTOCOMMIT"}


def test_an_api_read_with_a_reason_keeps_its_transaction(app, client, demo_users, statement_modes):
    # A reason is for somebody else's entries, whose receipts are written in a
    # savepoint: that needs a transaction (database.reads_only_unless).
    secret, _ = make_pat(app, "writer@example.com")
    headers = {"Authorization": f"Bearer {secret}", "Diary-Access-Reason": "checking"}
    statement_modes.clear()
    assert client.get("/api/v1/entries", headers=headers).status_code == 200
    assert statement_modes
    assert all(level != "AUTOCOMMIT" for level, _, _ in statement_modes)


def test_api_reads_keep_psycopgs_prepared_statements(app, client, demo_users):
    """psycopg prepares a statement it ran five times on a connection, so that
    PostgreSQL plans it once (planning the token lookup took longer than running
    it); a ROLLBACK makes psycopg forget them all. An API read ends in none."""
    if _backend(app) != "postgresql":
        pytest.skip("psycopg's prepared statements")
    secret, _ = make_pat(app, "writer@example.com")
    headers = {"Authorization": f"Bearer {secret}"}
    for _ in range(8):
        assert client.get("/api/v1/entries", headers=headers).status_code == 200
    prepared = []

    def count(_conn, cursor, statement, *_args):
        if "api_token" in statement:
            sql = "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%api_token%'"
            prepared.append(cursor.connection.execute(sql).fetchone()[0])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", count)
    try:
        assert client.get("/api/v1/entries", headers=headers).status_code == 200
    finally:
        sa.event.remove(engine, "after_cursor_execute", count)
    assert prepared and prepared[0] >= 1


def test_reading_pages_leave_sqlites_isolation_level_alone(
    app, client, auth, demo_users, monkeypatch
):
    """On SQLite a read opens no transaction anyway, and setting the isolation level
    back (PRAGMA read_uncommitted) expires every prepared statement of the
    connection: neither the reading pages nor the session store switch it."""
    with app.app_context():
        dialect = db.engine.dialect
    if dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL's reading pages run in autocommit")
    auth.login()
    client.post("/new_entry", data={"content": "hello", "csrf_token": csrf_token(client, "/")})
    switched = []
    real = dialect.set_isolation_level

    def counted(conn, level):
        switched.append(level)
        return real(conn, level)

    monkeypatch.setattr(dialect, "set_isolation_level", counted)
    for path in ("/", "/", "/account", "/archive"):
        assert client.get(path).status_code == 200, path
    assert switched == []


def test_pages_not_marked_keep_their_transaction(app, client, auth, demo_users, statement_modes):
    auth.login()
    statement_modes.clear()
    # An export: one transaction, so that all its chunks come from one snapshot.
    assert client.get("/api/v1/export").status_code == 200
    assert statement_modes and all(level == "default" for level, _, _ in statement_modes)
    if _backend(app) == "postgresql":
        assert any(in_transaction for _, _, in_transaction in statement_modes)


def test_a_session_already_in_a_transaction_is_left_alone(app, demo_users):
    """A caller holding the app context with a transaction open (a test, a CLI
    command) keeps it: the isolation level can only be set before one begins."""
    from diary.models import User

    with app.app_context():
        db.session.scalar(sa.select(User).limit(1))
        connection = db.session.connection()
        with app.test_request_context("/"):
            app.preprocess_request()
            assert db.session.connection() is connection
            assert connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
        db.session.rollback()


def test_reads_only_marks_the_registered_view(app):
    marked = {name for name, view in app.view_functions.items()
              if getattr(view, database.READS_ONLY_ATTR, False)}
    assert {"web.dashboard", "web.view_entry", "web.edit_entry", "web.all_entries",
            "web.account", "web.activity", "api_v1.list_entries", "api_v1.get_entry",
            "api_v1.me", "api_v1.list_tags"} <= marked
    assert "web.new_entry" not in marked and "web.delete_entry" not in marked
    # An export reads its entries in chunks: one transaction, one snapshot.
    assert "api_v1.export" not in marked and "api_v1.create_entry" not in marked


# The GET pages of Diary's own that keep their transaction, and why. Every other
# one is @reads_only: on PostgreSQL a request that ends in ROLLBACK makes psycopg
# forget the connection's prepared statements (and send DEALLOCATE ALL), so such a
# page would cost the next requests on its pooled connection their plans as well.
SNAPSHOT = "an export reads its rows in chunks: one transaction, one snapshot"
GET_PAGES_IN_A_TRANSACTION = {
    "admin.audit_csv": SNAPSHOT,
    "admin.audit_jsonl": SNAPSHOT,
    "api_v1.export": SNAPSHOT,
    "health.healthz": "the same answer for everybody: no statement",
    "health.readyz": "checks the database itself",
    "static": "files: no statement",
}


def test_every_get_page_of_diarys_own_is_reads_only_or_says_why_not(app):
    unmarked = set()
    for rule in app.url_map.iter_rules():
        # Flask-Security's views are the library's: what one runs on a GET is its
        # business (and may change with a release), so none is marked.
        if "GET" not in rule.methods or rule.endpoint.startswith("security."):
            continue
        if not getattr(app.view_functions[rule.endpoint], database.READS_ONLY_ATTR, False):
            unmarked.add(rule.endpoint)
    assert unmarked == set(GET_PAGES_IN_A_TRANSACTION)


@pytest.mark.parametrize(("path", "status"), [
    ("/account/tokens", 200), ("/all/search", 200), ("/api/v1/docs", 200),
    ("/admin/", 302), ("/admin/roles/new", 200), ("/admin/roles/{role}", 200),
    ("/admin/roles/{role}/grant", 302), ("/admin/users/{writer}/deactivate", 200),
])
def test_the_other_get_pages_read_without_a_transaction(app, client, auth, demo_users,
                                                        mfa_policy_off, statement_modes,
                                                        path, status):
    with app.app_context():
        role = db.session.scalar(sa.select(Role.id).where(Role.name == "Writer"))
        writer = db.session.scalar(sa.select(User.id).where(User.email == "writer@example.com"))
    path = path.format(role=role, writer=writer)
    assert auth.login("admin@example.com", "adminpass").status_code == 302
    statement_modes.clear()
    response = client.get(path)
    assert response.status_code == status
    if status == 302:  # the console's own redirects, not the sign-in's
        assert response.headers["Location"].startswith("/admin/")
    assert statement_modes, f"{path} ran no statement"
    assert not any(in_transaction for _, _, in_transaction in statement_modes)
    if _backend(app) == "postgresql":
        assert {level for level, _, _ in statement_modes} == {"AUTOCOMMIT"}


# --- The SQLite file is the owner's alone -------------------------------------------


def test_sqlite_file_and_its_wal_and_shm_are_0600(tmp_path, monkeypatch):
    from flask_migrate import upgrade

    from diary import create_app
    from tests.conftest import base_config

    monkeypatch.delenv("DIARY_DATABASE_URL", raising=False)
    settings = base_config("", str(tmp_path / "instance"))  # the default SQLite file
    app = create_app(settings)
    path = tmp_path / "instance" / "diary.sqlite3"
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:  # -wal and -shm exist while it is open
            conn.execute(sa.text("CREATE TABLE probe (x INTEGER)"))
            conn.commit()
            files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()
                     if p.name.startswith("diary.sqlite3")}
        db.engine.dispose()
    assert files == {"diary.sqlite3": 0o600, "diary.sqlite3-wal": 0o600,
                     "diary.sqlite3-shm": 0o600}


def test_an_sqlite_file_elsewhere_is_created_0600_too(tmp_path):
    from diary import create_app
    from tests.conftest import base_config

    path = tmp_path / "elsewhere" / "diary.db"
    path.parent.mkdir()
    app = create_app(base_config(f"sqlite:///{path}", str(tmp_path / "instance")))
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))
        db.session.remove()
        db.engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_roles_are_found_through_an_index(app):
    """Every signed-in request loads its user's roles through roles_users, which
    Flask-Security's model leaves without an index (migration 0013 adds one)."""
    with app.app_context():
        indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(db.engine).get_indexes("roles_users")}
        assert indexes.get("ix_roles_users_user_id_role_id") == ["user_id", "role_id"]
        passkeys = {ix["name"]: ix["column_names"] for ix in sa.inspect(db.engine).get_indexes("webauthn")}
        assert passkeys.get("ix_webauthn_user_id") == ["user_id"]
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1]) for row in db.session.execute(
                    sa.text("EXPLAIN QUERY PLAN SELECT role_id FROM roles_users WHERE user_id = 1")
                )
            )
            assert "ix_roles_users_user_id_role_id" in plan


@pytest.mark.parametrize("lookup", ["session", "personal access token", "auth token"])
def test_the_credential_lookups_read_through_indexes_only(app, lookup):
    """The one statement of each signed-in request (diary.services.credentials,
    diary.services.tokens) finds its rows by index: no table is scanned and no
    join is built whole, however many accounts there are. (``joinedload`` of the
    roles wrote a nested join that SQLite materialized on every request.)"""
    from diary.services import credentials, tokens

    statement = {
        "session": credentials._SESSION_LOOKUP,
        "personal access token": tokens._LOOKUP,
        "auth token": credentials._AUTH_TOKEN_LOOKUP,
    }[lookup]
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's query plan")
        compiled = statement.compile(dialect=db.engine.dialect)
        params = [None] * len(compiled.positiontup)
        plan = [
            str(row[-1])
            for row in db.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(compiled), tuple(params)
            )
        ]
        assert plan and all(step.startswith("SEARCH ") for step in plan), plan
