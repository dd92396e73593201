"""Diary: a self-hosted, multi-user, secure journal.

``create_app()`` is the application factory; ``gunicorn 'diary:create_app()'``
serves it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build and return the Diary app.

    :param config: settings that override the defaults and the ``DIARY_*``
        environment (tests use this). ``INSTANCE_PATH`` here, or the
        ``DIARY_INSTANCE_PATH`` environment variable, moves the instance folder.
    """
    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("DIARY_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    register_config(app, config)
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_hooks(app)
    return app


def register_config(app: Flask, overrides: Mapping[str, Any]) -> None:
    """Load settings: defaults, then ``DIARY_*`` variables, then ``overrides``.

    :raises diary.production.StartRefused: production settings that are unsafe.
    """
    from diary import config, instance_folder, instance_secrets, production

    app.config.from_object(config.Defaults)
    config.from_environment(app.config)
    app.config.update(overrides)
    production.check(app.config)  # before any secret is generated
    instance_folder.prepare(app.instance_path, app.logger)
    instance_secrets.apply(app.config, app.instance_path)
    config.finalize(app.config, app.instance_path)


def register_logging(app: Flask) -> None:
    """Set up the process's logs (JSON or text, request ids); before the database."""
    from diary import logs

    logs.init_app(app)


def register_extensions(app: Flask) -> None:
    """Bind the database, CSRF protection and Flask-Security to ``app``."""
    from diary import database
    from diary.extensions import csrf, limiter, mail
    from diary.security import wiring

    database.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    wiring.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Mount the diary pages, the admin console, the JSON API and the health
    endpoints."""
    from diary import api
    from diary.admin import bp as admin_bp
    from diary.health import bp as health_bp
    from diary.web import bp as web_bp

    app.register_blueprint(web_bp)
    app.register_blueprint(admin_bp)  # the admin console under /admin (issue 10)
    api.init_app(app)  # the JSON API under /api/v1 (issue 5)
    app.register_blueprint(health_bp)  # /healthz and /readyz (issue 12)


def register_errorhandlers(app: Flask) -> None:
    """Answer HTTP errors with styled pages."""
    from diary import errors

    errors.init_app(app)


def register_hooks(app: Flask) -> None:
    """Put every request hook in the one order of :mod:`diary.pipeline`."""
    from diary import pipeline

    pipeline.install(app)


def register_commands(app: Flask) -> None:
    """Add Diary's ``flask`` commands."""
    from diary import cli

    cli.init_app(app)
