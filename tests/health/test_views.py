"""/healthz and /readyz: what a load balancer sees, and what nobody else learns."""

from __future__ import annotations

import socket

import pytest
from flask_migrate import stamp

from diary import create_app
from diary.extensions import db
from diary.services import health
from tests.conftest import TEST_REDIS_URL, base_config

ANSWERS = {"ok", "failing"}


def closed_port() -> int:
    """Return a local TCP port nothing listens on (taken and given back at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_tells_nothing(response) -> dict:
    """Check the answer is the bare JSON shape, sets no cookie and is not cached;
    return its body."""
    assert response.is_json
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    # Diary's security headers are sent here too.
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers
    body = response.get_json()
    assert set(body) <= {"status", "checks"} and body["status"] in ANSWERS
    assert set(body.get("checks", {}).values()) <= ANSWERS
    return body


@pytest.fixture
def other_app(tmp_path):
    """Build an app of its own (not on the migrated test database); close its
    connections after the test."""
    made = []

    def _make(**overrides):
        config = base_config("", str(tmp_path / "instance")) | overrides
        made.append(create_app(config))
        return made[-1]

    yield _make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def test_healthz_says_the_process_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert assert_tells_nothing(response) == {"status": "ok"}


def test_readyz_is_200_when_everything_is_fine(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    expected = {"database": "ok", "migrations": "ok"}
    if TEST_REDIS_URL:
        expected["redis"] = "ok"
    assert assert_tells_nothing(response) == {"status": "ok", "checks": expected}


def test_healthz_and_readyz_answer_head_requests(client):
    assert client.head("/healthz").status_code == 200
    assert client.head("/readyz").status_code == 200


def test_a_signed_in_browser_gets_no_new_cookie_either(client, auth, demo_users):
    auth.login()
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
def test_readyz_is_503_when_the_database_is_unreachable(other_app, tmp_path, engine):
    url = {
        "postgresql": f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/diary",
        # A file in a folder that does not exist: SQLite cannot open it.
        "sqlite": "sqlite:///" + str(tmp_path / "no-such-folder" / "diary.sqlite3"),
    }[engine]
    client = other_app(DATABASE_URL=url).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = assert_tells_nothing(response)
    assert body["status"] == "failing"
    assert body["checks"]["database"] == "failing"
    assert body["checks"]["migrations"] == "failing"
    # The process itself still answers.
    assert client.get("/healthz").status_code == 200


def test_readyz_names_no_host_port_or_error(other_app):
    port = closed_port()
    client = other_app(
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{port}/diary",
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
    ).test_client()
    text = client.get("/readyz").get_data(as_text=True)
    for leak in (str(port), "127.0.0.1", "postgres", "redis://", "refused", "Error", "Traceback"):
        assert leak not in text


def test_readyz_is_503_when_redis_is_unreachable(database_url, tmp_path):
    from tests.conftest import app_on_test_database

    unreachable = f"redis://127.0.0.1:{closed_port()}/0"
    with app_on_test_database(database_url, tmp_path, REDIS_URL=unreachable) as app:
        response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = assert_tells_nothing(response)
    assert body == {
        "status": "failing",
        "checks": {"database": "ok", "migrations": "ok", "redis": "failing"},
    }


def test_readyz_is_503_when_migrations_are_behind(app, client):
    from alembic.script import ScriptDirectory

    from diary.database import MIGRATIONS_DIR

    (head,) = health.migration_heads()
    before = ScriptDirectory(MIGRATIONS_DIR).get_revision(head).down_revision
    with app.app_context():
        stamp(revision=before)  # as if the release's upgrade had not run
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        checks = assert_tells_nothing(response)["checks"]
        assert checks["database"] == "ok" and checks["migrations"] == "failing"
    finally:
        with app.app_context():
            stamp(revision=head)
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_on_a_database_never_migrated(other_app, tmp_path):
    client = other_app(DATABASE_URL="sqlite:///" + str(tmp_path / "empty.sqlite3")).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = assert_tells_nothing(response)["checks"]
    assert checks["database"] == "ok" and checks["migrations"] == "failing"


RATE_LIMITED = """
from diary import create_app
client = create_app({"TESTING": True}).test_client()
print(*[client.get(path).status_code for path in ["/healthz", "/readyz"] * 5 + ["/login"] * 3])
"""


def test_no_rate_limit_counts_the_monitor(tmp_path, database_url):
    from tests.test_config import run_in_fresh_process

    # In a process of its own: a default limit stays on the shared Limiter object.
    env = {"DIARY_DATABASE_URL": database_url, "DIARY_RATELIMIT_DEFAULT": "2 per minute"}
    statuses = run_in_fresh_process(RATE_LIMITED, env, tmp_path).split()
    # Even with a default limit on every endpoint, a monitor polling is never refused…
    assert statuses[:10] == ["200"] * 10
    # …while the same limit does refuse a page (so this test can fail).
    assert statuses[10:] == ["200", "200", "429"]


def test_plain_http_is_not_redirected_in_production(database_url, tmp_path):
    from tests.conftest import app_on_test_database

    with app_on_test_database(database_url, tmp_path, HTTPS=True) as app:
        client = app.test_client()
        plain = "http://10.0.0.5:8000"  # a load balancer probing one instance
        assert client.get("/login", base_url=plain).status_code == 302  # pages: to HTTPS
        response = client.get("/healthz", base_url=plain)
        assert response.status_code == 200
        assert client.get("/readyz", base_url=plain).status_code == 200


def test_the_health_endpoints_look_nobody_up(app):
    from diary import pipeline

    with app.test_request_context("/readyz"):
        for endpoint in ("health.healthz", "health.readyz"):
            assert pipeline.credentials_for(endpoint, "health") == frozenset()
