"""Production mode: the settings Diary refuses to start with (issue 12).

``DIARY_HTTPS=true`` is production: the site is public. Then a deployment that
would run but be quietly unsafe or inconsistent is refused at start, with one
line saying what is wrong and what to set (docs/deploy.md explains each):

* **Secrets not set.** ``SECRET_KEY``, ``SECURITY_PASSWORD_SALT``,
  ``SECURITY_TOTP_SECRETS`` and ``SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS`` must
  come from the environment (or the mapping given to ``create_app``). In
  development a missing one is generated into the instance folder
  (:mod:`diary.instance_secrets`); instances on two machines would each generate
  their own, and a session, a password hash or an authenticator key made on one
  would not work on the other.
* **Debug on** (``flask run --debug``, ``FLASK_DEBUG`` or ``DIARY_DEBUG``): the
  debugger shows code and tracebacks to whoever causes an error.
* **Rate limits in process memory while more than one process serves.** Each
  process would count sign-in attempts on its own: with two workers the limit of
  10 per minute lets 20 guesses through. ``DIARY_REDIS_URL`` shares the counts;
  ``DIARY_SINGLE_PROCESS=true`` states that one process serves.
* **DIARY_SINGLE_PROCESS=true while the server runs several workers**
  (``deploy/gunicorn.conf.py`` tells the app its worker count through
  ``DIARY_SERVER_PROCESSES``).
* **SQLite while more than one process or instance serves.** An SQLite file
  belongs to one machine, and its single writer makes several processes wait on
  each other; several instances need PostgreSQL. ``DIARY_SINGLE_PROCESS=true``
  states that one process serves.

So production is one of two shapes: one process (``DIARY_SINGLE_PROCESS=true``:
SQLite and in-memory limits allowed), or any number of processes and instances
on PostgreSQL and Redis. Sessions are never kept in memory: in the database
without Redis, so every process shares them in either shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from sqlalchemy.engine import make_url

from diary import config as settings
from diary.instance_secrets import SECRET_NAMES


class StartRefused(click.ClickException, RuntimeError):
    """Production settings Diary will not run with; the message is one line.

    A :class:`click.ClickException`, so that ``flask --app diary …`` prints
    ``Error: <the line>`` and exits 1 instead of a traceback; a
    :class:`RuntimeError`, so that gunicorn loading the app in its master process
    (``preload_app``) prints ``Error: <the line>`` and exits 1 too.
    """

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__(
            "Diary refuses to start in production (DIARY_HTTPS=true): " + "; ".join(reasons)
        )


def check(config: Mapping[str, Any]) -> None:
    """Refuse production settings that are unsafe or inconsistent.

    Call with the settings as given (defaults, environment, overrides), before
    any secret is generated. Does nothing unless ``HTTPS`` is on.

    :raises StartRefused: naming every problem found, each with what to set.
    """
    if not config.get("HTTPS"):
        return
    reasons = []
    missing = [name for name in SECRET_NAMES if not config.get(name)]
    if missing:
        reasons.append(
            "set " + ", ".join(f"DIARY_{name}" for name in missing)
            + " in the environment (every instance must share them; "
            "python -m diary.instance_secrets prints new ones)"
        )
    if config.get("DEBUG"):
        reasons.append(
            "debug is on (flask --debug, FLASK_DEBUG or DIARY_DEBUG): it shows code "
            "and tracebacks to visitors; switch it off"
        )
    single = bool(config.get("SINGLE_PROCESS"))
    processes = int(config.get("SERVER_PROCESSES") or 0)
    if single and processes > 1:
        reasons.append(
            f"DIARY_SINGLE_PROCESS=true, but the server runs {processes} worker "
            "processes: set WEB_CONCURRENCY=1, or DIARY_REDIS_URL and PostgreSQL "
            "and DIARY_SINGLE_PROCESS=false"
        )
    if not single and settings.rate_limit_storage(config).startswith("memory://"):
        reasons.append(
            "rate limits would be kept in each process's memory, so each process "
            "counts on its own: set DIARY_REDIS_URL, or DIARY_SINGLE_PROCESS=true "
            "if exactly one process serves"
        )
    if not single and is_sqlite(config):
        reasons.append(
            "SQLite serves one process on one machine: set DIARY_DATABASE_URL to "
            "PostgreSQL, or DIARY_SINGLE_PROCESS=true if exactly one process serves"
        )
    if reasons:
        raise StartRefused(reasons)


def is_sqlite(config: Mapping[str, Any]) -> bool:
    """Return whether the app's database is SQLite (no ``DATABASE_URL`` means the
    SQLite file in the instance folder)."""
    url = config.get("DATABASE_URL")
    return not url or make_url(url).get_backend_name() == "sqlite"
