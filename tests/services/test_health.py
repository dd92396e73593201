"""The readiness checks themselves (the endpoints: tests/health/test_views.py)."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext

from diary.extensions import db
from diary.services import health
from tests.health.test_views import closed_port


def test_the_scripts_head_is_what_upgrade_leaves_in_the_database(app):
    heads = health.migration_heads()
    assert len(heads) == 1  # one line of migrations, no unmerged branch
    with app.app_context(), db.engine.connect() as connection:
        assert frozenset(MigrationContext.configure(connection).get_current_heads()) == heads


def test_ready_when_every_check_passes(app):
    with app.app_context():
        result = health.readiness(health.migration_heads())
    assert result.checks == {health.DATABASE: True, health.MIGRATIONS: True}
    assert result.ready


def test_another_head_means_the_migrations_are_not_at_head(app):
    with app.app_context():
        result = health.readiness(frozenset({"a-newer-revision"}))
    assert result.checks == {health.DATABASE: True, health.MIGRATIONS: False}
    assert not result.ready


def test_an_unreachable_redis_fails_its_check_within_the_timeout(app, caplog):
    client = health.redis_client(f"redis://127.0.0.1:{closed_port()}/0", timeout=1)
    with app.app_context():
        result = health.readiness(health.migration_heads(), client)
    assert result.checks[health.REDIS] is False and not result.ready
    # What went wrong is logged for the operator, on one line.
    (record,) = [r for r in caplog.records if "Redis check failed" in r.getMessage()]
    assert "\n" not in record.getMessage()


def test_the_redis_client_gives_up_after_the_timeout():
    client = health.redis_client("redis://127.0.0.1:6379/0", timeout=1.5)
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] == kwargs["socket_timeout"] == 1.5

