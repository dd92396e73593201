"""Logs: one line per record, JSON in production, with a request id on every
record of a request and one access record per request.

:func:`init_app` puts one handler on the root logger, so Diary's own records and
those of the libraries (Flask-Security, Werkzeug, SQLAlchemy …) come out alike:
JSON objects from python-json-logger (``LOG_FORMAT=json``, the default with HTTPS
on) or readable lines (``text``, the default otherwise). Every record made while a
request is handled carries its ``request_id``; the same id is answered as
``X-Request-ID`` on every response.

What a log must never hold, and how it is kept out:

- URL paths carry secrets here (``/reset/<token>``, ``/confirm/<token>``,
  ``/change-email/<token>`` …) and query strings may too: the access record names
  the matched route's pattern, never the path or the query string, and an
  unhandled exception is logged with the route, not Flask's ``request.path``.
  Werkzeug's development server logs each request line with its raw path: those
  lines are dropped (the access record replaces them).
- SQL parameters hold entry text and the hashes of credentials: SQLAlchemy's
  statement log stays at WARNING whatever ``LOG_LEVEL`` says, and the engine is
  made with ``hide_parameters`` so a database error does not print them either.
- Headers, cookies, form fields and bodies are never logged; the user is named by
  id, not by email address.

``tests/test_logs.py`` drives every sign-in flow with distinctive secrets and looks
for each of them in the captured log.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from types import MethodType

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request
from flask.logging import default_handler, wsgi_errors_stream
from pythonjsonlogger.json import JsonFormatter

# The response header (and, from a trusted proxy, the request header) of the id.
HEADER = "X-Request-ID"
# What an id from the proxy may look like: nginx's $request_id (32 hex digits), a
# UUID, or a similar short token. Anything else is replaced by an id of our own,
# so no client text reaches the log through this header.
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")
FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Loggers whose INFO/DEBUG records would carry secrets, held at WARNING: SQL
# statements with their parameters (entry text, hashes of tokens and passwords).
QUIET_LOGGERS = ("sqlalchemy",)

access_logger = logging.getLogger("diary.request")


def init_app(app: Flask) -> None:
    """Configure logging for ``app``'s process from ``LOG_FORMAT`` and ``LOG_LEVEL``,
    hide SQL parameters from database errors, and log exceptions by route.

    Call before the database is bound (the engine options are read then). The
    request hooks (:func:`start_request`, :func:`log_request`) are installed in
    their place by :mod:`diary.pipeline`. Called again (another app in the same
    process, as in tests), it replaces its handler rather than adding one.

    :raises ValueError: one line naming the variable, for an unknown format or level.
    """
    fmt = log_format(app.config)
    level = log_level(app.config)
    handler = logging.StreamHandler(wsgi_errors_stream)
    handler.set_name("diary")
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "diary"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Flask's own handler on the app's logger would print its records a second time.
    app.logger.removeHandler(default_handler)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    werkzeug = logging.getLogger("werkzeug")
    for old in [f for f in werkzeug.filters if isinstance(f, DevServerRequestLineFilter)]:
        werkzeug.removeFilter(old)
    werkzeug.addFilter(DevServerRequestLineFilter())
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"hide_parameters": True, **options}
    # Flask logs an unhandled exception "on <request.path>": the path may hold a
    # token. Flask's hook for this is the log_exception method (meant to be
    # overridden in a subclass); set on this app object it does the same, without
    # a Flask subclass in the factory.
    app.log_exception = MethodType(_log_exception, app)


def log_format(config) -> str:
    """Return the configured format, ``json`` or ``text`` (empty: ``json`` with
    HTTPS on, ``text`` without).

    :raises ValueError: for any other value.
    """
    value = str(config.get("LOG_FORMAT") or "").strip().lower()
    if not value:
        return "json" if config.get("HTTPS") else "text"
    if value not in FORMATS:
        raise ValueError(f"LOG_FORMAT (DIARY_LOG_FORMAT) must be json or text; got {value!r}")
    return value


def log_level(config) -> int:
    """Return the configured level as a number.

    :raises ValueError: for a name that is not a logging level.
    """
    name = str(config.get("LOG_LEVEL") or "INFO").strip().upper()
    levels = logging.getLevelNamesMapping()
    if name not in levels or name == "NOTSET":
        raise ValueError(
            "LOG_LEVEL (DIARY_LOG_LEVEL) must be DEBUG, INFO, WARNING, ERROR or "
            f"CRITICAL; got {name!r}"
        )
    return levels[name]


def formatter(fmt: str) -> logging.Formatter:
    """Return the formatter for ``fmt`` (``json`` or ``text``)."""
    if fmt == "json":
        return JsonFormatter(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )
    return logging.Formatter(TEXT_FORMAT)


class RequestIdFilter(logging.Filter):
    """Give every record the id of the request it was made in (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set ``record.request_id``; return True (the record is kept)."""
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class DevServerRequestLineFilter(logging.Filter):
    """Drop the lines Werkzeug's development server writes about each request
    ("127.0.0.1 - - [date] "GET /reset/<the token> HTTP/1.1" 200 -"): they hold
    the raw path and query string. Its start-up lines are kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for a per-request line of the development server."""
        return " - - [" not in str(record.msg)


def current_request_id() -> str | None:
    """Return the current request's id, made on first use; None outside a request."""
    if not has_request_context():
        return None
    if "request_id" not in g:
        g.request_id = _incoming_request_id() or uuid.uuid4().hex
    return g.request_id


def _incoming_request_id() -> str | None:
    # Only a proxy we trust (TRUSTED_PROXIES, diary.security.proxies) sets this
    # header; from anybody else it is client text.
    if not current_app.config.get("TRUSTED_PROXIES"):
        return None
    value = request.headers.get(HEADER, "")
    return value if REQUEST_ID_RE.fullmatch(value) else None


# --- Request hooks (installed by diary.pipeline) ----------------------------------


def start_request() -> None:
    """First before-request hook: note the time and fix the request's id."""
    g.request_started = time.perf_counter()
    current_request_id()


def log_request(response):
    """Last after-request hook: answer the request id and write the access record.

    The record holds the method, the route's pattern (``/reset/<token>``, never the
    path), the status, the duration in milliseconds up to the response (a streamed
    body is still being sent), the user's id when one is signed in and the client's
    address as the app sees it (after ``TRUSTED_PROXIES``).

    :return: ``response``, with ``X-Request-ID``.
    """
    request_id = current_request_id()
    response.headers[HEADER] = request_id
    started = g.get("request_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started else None
    route = request.url_rule.rule if request.url_rule is not None else None
    method = request.method[:16]
    access_logger.info(
        "%s %s %s %sms", method, route or "(no route)", response.status_code, duration,
        extra={
            "event": "request",
            "method": method,
            "route": route,
            "status": response.status_code,
            "duration_ms": duration,
            "user_id": _user_id(),
            "remote_addr": request.remote_addr,
        },
    )
    return response


def _user_id() -> int | None:
    """Return the id of the request's user, if any, without touching the database
    (the identity map knows it even after a commit expired the row)."""
    from diary.security.identity import current_identity

    identity = current_identity()
    if identity is None:
        return None
    key = sa.inspect(identity.user).identity
    return key[0] if key else None


def _log_exception(app: Flask, exc_info) -> None:
    """Log an unhandled exception (one record, with its traceback) by route."""
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    app.logger.error("Exception on %s [%s]", rule, request.method[:16], exc_info=exc_info)
