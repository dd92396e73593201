"""What a request gets while the database or Redis cannot be reached: 503 with
``Retry-After`` (the HTML error page, or the API's problem+json), never a stack
trace and never a 500.

One list, :data:`ERRORS`, says which failures mean "a service Diary needs is
down" rather than "Diary has a bug": SQLAlchemy's ``OperationalError`` (connection
refused or lost, PostgreSQL's ``statement_timeout`` cancelling a statement, SQLite
busy past its timeout), ``InterfaceError`` (a connection already closed),
``TimeoutError`` (no pooled connection within ``pool_timeout``), Redis's connection
and timeout errors (also as the ``limits`` library wraps them), and :class:`Unavailable` (raised by Diary itself: a session
store or rate-limit storage that is down where the request cannot go on without
it). :mod:`diary.errors` and :mod:`diary.api.errors` answer them.

Recovery needs nothing from here: SQLAlchemy invalidates the whole pool when a
statement fails with a disconnect error, so the connections of the dead server are
never used again, and new ones are made once the server answers. Flask-SQLAlchemy
removes the request's session at teardown whatever happened (its rollback on a
dead connection is safe), so the next request starts clean.
"""

from __future__ import annotations

import limits.errors
import redis.exceptions
import sqlalchemy.exc
from flask import current_app, g


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


def cause(error: BaseException | None) -> BaseException | None:
    """Return the failure of :data:`ERRORS` behind ``error`` (itself, the original
    exception of a 500, or one it was raised from), or None if there is none."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ERRORS):
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
    """Log ``error`` at ERROR as one line: its kind and the driver's first line.

    Never the full text: SQLAlchemy's message carries the statement and its
    parameters (entry text, token digests).
    """
    if isinstance(error, Unavailable) and error.__cause__ is not None:
        what, error = error.what + ": ", error.__cause__
    else:
        what = ""
    orig = getattr(error, "orig", None) or error
    first_line = (str(orig).strip().splitlines() or [""])[0][:200]
    current_app.logger.error(
        "service unavailable, answered 503: %s%s: %s", what, type(error).__name__, first_line
    )


def forget_user() -> None:
    """Make the request's user anonymous for the rest of it, so that the error
    page renders without loading anybody from the database."""
    login_manager = getattr(current_app, "login_manager", None)
    if login_manager is not None:
        g._login_user = login_manager.anonymous_user()
