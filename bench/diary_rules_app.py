"""A third yardstick for ``bench/speed``: what Diary's rules cost on their own.

Diary as shipped (``diary.create_app()``, its settings from the environment, as
``bench/speed`` serves it) with one more page, ``GET /bench/empty``: signed-in,
decorated as the dashboard is (``@reads_only``, ``@auth_required()``), and answering
the same constant text as ``bench/fs_floor_app.py``'s page. So every request to it
passes every one of Diary's request hooks in ``diary.pipeline``'s order: the
server-side session read, the one credential lookup (user, roles, device row,
lockout), the session's timeouts, Flask-Limiter, the CSRF check, the security
headers, the access record; and nothing else: no statement of its own, no
template, no form.

Set beside Flask-Security alone (``bench/fs_floor_app.py``, the same text after
Flask-Security's own session check) it shows what Diary's rules cost; set beside
the dashboard, what the page itself costs (its entries, their rendering).
``bench/profile --only rules`` profiles it in-process (:func:`add_empty_page`).

Bench code only: the page exists in this module, never in the app.
"""

from flask import Flask
from flask_security import auth_required

from diary import create_app
from diary.database import reads_only

PATH = "/bench/empty"
TEXT = "Hello, signed-in user!"


def add_empty_page(app: Flask) -> Flask:
    """Add ``GET`` :data:`PATH` to ``app`` (before its first request); return it."""

    @reads_only
    @auth_required()
    def bench_empty():
        """Return a constant greeting to a signed-in user."""
        return TEXT

    app.add_url_rule(PATH, "bench_empty", bench_empty, methods=["GET"])
    return app


def make_app() -> Flask:
    """Return Diary with the empty page (``gunicorn 'diary_rules_app:make_app()'``)."""
    return add_empty_page(create_app())
