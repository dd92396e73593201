"""What a request gets while the database or Redis cannot be reached: 503 with
``Retry-After`` (the HTML error page, or the API's problem+json), never a stack
trace and never a 500.

One list, :data:`ERRORS`, says which failures mean "a service Diary needs is
down" rather than "Diary has a bug": SQLAlchemy's ``OperationalError`` (connection
refused or lost, PostgreSQL's ``statement_timeout`` cancelling a statement; on
SQLite only a file locked past its busy timeout or unreadable, see
:func:`is_unavailable`), ``InterfaceError`` (a connection already closed),
``TimeoutError`` (no pooled connection within ``pool_timeout``), Redis's connection
and timeout errors (also as the ``limits`` library wraps them), and :class:`Unavailable` (raised by Diary itself: a session
store or rate-limit storage that is down where the request cannot go on without
it). :mod:`diary.errors` and :mod:`diary.api.errors` answer them; one that is not
a service being down (:func:`is_unavailable`) is raised on, to be a 500.

Recovery needs nothing from here: SQLAlchemy invalidates the whole pool when a
statement fails with a disconnect error, so the connections of the dead server are
never used again, and new ones are made once the server answers. Flask-SQLAlchemy
removes the request's session at teardown whatever happened (its rollback on a
dead connection is safe), so the next request starts clean.
"""

from __future__ import annotations

import logging
import sqlite3

import limits.errors
import redis.exceptions
import sqlalchemy.exc
from flask import current_app, g


# What an Unavailable of the rate-limit storage names.
RATE_LIMITS = "rate-limit storage"


class Unavailable(Exception):
    """A service the request needs (``what``: "session store", "rate limits") is
    unreachable; answered 503."""

    def __init__(self, what: str):
        super().__init__(f"{what} unreachable")
        self.what = what


def session_store_down(error: BaseException) -> Unavailable:
    """Return the :class:`Unavailable` of a session store that failed with ``error``."""
    down = Unavailable("session store")
    down.__cause__ = error
    return down


ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    limits.errors.StorageError,  # the rate-limit storage's errors, when it wraps them
    Unavailable,
)


# SQLite has one error class for everything (a missing table is an
# OperationalError there, a ProgrammingError on PostgreSQL): only these mean its
# file cannot be used right now.
SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk i/o error",
)


def is_unavailable(error: BaseException) -> bool:
    """Return whether ``error`` means a service is down (:data:`ERRORS`), not a bug:
    SQLite's OperationalError only for a locked or unreadable file."""
    if not isinstance(error, ERRORS):
        return False
    orig = getattr(error, "orig", None)
    if isinstance(orig, sqlite3.Error) and isinstance(error, sqlalchemy.exc.OperationalError):
        return str(orig).lower().startswith(SQLITE_UNAVAILABLE)
    return True


def cause(error: BaseException | None) -> BaseException | None:
    """Return the failure of :data:`ERRORS` behind ``error`` (itself, the original
    exception of a 500, or one it was raised from) that :func:`is_unavailable`, or
    None if there is none."""
    seen = 0
    while error is not None and seen < 10:
        if is_unavailable(error):
            return error
        error = (
            getattr(error, "original_exception", None) or error.__cause__ or error.__context__
        )
        seen += 1
    return None


def retry_after() -> str:
    """Return the ``Retry-After`` value of a 503: ``UNAVAILABLE_RETRY_AFTER`` seconds."""
    return str(max(1, int(current_app.config["UNAVAILABLE_RETRY_AFTER"])))


def report(error: BaseException) -> None:
    """Log ``error`` as one line, its kind and the driver's first line: at ERROR,
    or WARNING for a rate limit refusing while its storage is down.

    Never the full text: SQLAlchemy's message carries the statement and its
    parameters (entry text, token digests).
    """
    # An outage of the rate-limit storage is logged at ERROR once, when it begins
    # (diary.services.ratelimits.guarded); each request it refuses at WARNING.
    level = logging.ERROR
    if isinstance(error, Unavailable):
        if error.what == RATE_LIMITS:
            level = logging.WARNING
        if error.__cause__ is not None:
            what, error = error.what + ": ", error.__cause__
        else:
            what = ""
    else:
        what = ""
    current_app.logger.log(level, "service unavailable, answered 503: %s%s", what, one_line(error))


def one_line(error: BaseException) -> str:
    """Return ``error`` as ``Kind: first line of its message`` (at most 200
    characters of it; the driver's message where SQLAlchemy wraps one). Never the
    rest: SQLAlchemy's message carries the statement and its parameters, drivers
    add hosts and documentation links."""
    message = str(getattr(error, "orig", None) or error)
    return f"{type(error).__name__}: {(message.strip().splitlines() or [''])[0][:200]}"


def forget_user() -> None:
    """Make the request's user anonymous for the rest of it, so that the error
    page renders without loading anybody from the database."""
    login_manager = getattr(current_app, "login_manager", None)
    if login_manager is not None:
        g._login_user = login_manager.anonymous_user()
