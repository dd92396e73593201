"""Health of one app instance, for load balancers and monitors (issue 12).

Two questions, as Kubernetes and most load balancers ask them:

* **alive** (``/healthz``): the process answers requests. Nothing is checked
  beyond that, so a database outage never makes the orchestrator restart every
  instance at once.
* **ready** (:func:`readiness`, ``/readyz``): this instance can serve: the
  database answers a cheap query, Redis answers ``PING`` when ``REDIS_URL`` is
  set, and the database's schema is the one this code was written for (the
  ``alembic_version`` row equals the head of the migration scripts shipped with
  it). A release that forgot ``flask --app diary db upgrade`` is reported here
  instead of failing on its first query of a new column.

What a check found out (which error, which host) is logged, never answered: the
answer names each check and whether it is ok, nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import redis
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from diary.database import MIGRATIONS_DIR
from diary.extensions import db
from diary.unavailable import one_line

log = logging.getLogger(__name__)

DATABASE = "database"
MIGRATIONS = "migrations"
REDIS = "redis"


@dataclass(frozen=True)
class Readiness:
    """The outcome of each readiness check, by name (``database``,
    ``migrations``, and ``redis`` where Redis is configured)."""

    checks: dict[str, bool]

    @property
    def ready(self) -> bool:
        """Whether every check passed."""
        return all(self.checks.values())


@lru_cache(maxsize=None)
def migration_heads(directory: str = MIGRATIONS_DIR) -> frozenset[str]:
    """Return the head revision(s) of the migration scripts in ``directory``: what
    ``alembic_version`` holds once ``flask db upgrade`` has run. Reads files only,
    once per process (the scripts ship with the code; loading them costs 0.3 s of
    imports, kept out of every start and paid by the first readiness check).

    :raises alembic.util.CommandError: if the scripts are broken (a start error).
    """
    return frozenset(ScriptDirectory(directory).get_heads())


def redis_client(url: str, timeout: float) -> redis.Redis:
    """Return a Redis client for the readiness check: it gives up connecting or
    waiting for an answer after ``timeout`` seconds. No connection is made yet."""
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def readiness(heads: frozenset[str], redis_conn: redis.Redis | None = None) -> Readiness:
    """Check the database, its migrations and (if given) Redis; return what passed.

    :param heads: the scripts' head revisions (:func:`migration_heads`).
    :param redis_conn: the client of :func:`redis_client`, or None when Redis is not used.
    """
    checks = dict(zip((DATABASE, MIGRATIONS), _database(heads)))
    if redis_conn is not None:
        checks[REDIS] = _redis(redis_conn)
    return Readiness(checks)


def _database(heads: frozenset[str]) -> tuple[bool, bool]:
    """Return whether the database answers, and whether its schema is at ``heads``."""
    try:
        # A connection of its own, returned to the pool at once: the check never
        # joins (or ends) a transaction of the request's session.
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except Exception as exc:  # any failure means "not ready", whatever the driver raised
        log.warning("Readiness: the database check failed: %s", one_line(exc))
        return False, False
    if current != heads:
        log.warning(
            "Readiness: the database schema is at %s, this code expects %s: "
            "run flask --app diary db upgrade",
            sorted(current) or "no revision", sorted(heads),
        )
        return True, False
    return True, True


def _redis(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError as exc:
        log.warning("Readiness: the Redis check failed: %s", one_line(exc))
        return False

