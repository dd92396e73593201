"""The health endpoints' views: parse nothing, ask the service, answer JSON."""

from __future__ import annotations

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from diary.health import bp
from diary.services import health

EXTENSION_KEY = "diary.health"


@bp.record_once
def _prepare(state) -> None:
    """Make the readiness check's Redis client (None without ``REDIS_URL``); no
    connection is made yet."""
    app = state.app
    url = app.config.get("REDIS_URL")
    timeout = float(app.config["HEALTH_CHECK_TIMEOUT"])
    app.extensions[EXTENSION_KEY] = health.redis_client(url, timeout) if url else None


def plain_http_allowed(view):
    """Exempt ``view`` from Flask-Talisman's redirect to HTTPS (its per-view option,
    what ``@talisman(force_https=False)`` sets): a load balancer probes an instance
    on its own port, over HTTP. The security headers are still sent.

    Talisman fills the other per-view options into this dict from the first app
    that serves the view; they are the app-wide ones, the same for every app of a
    deployment."""
    view.talisman_view_options = {"force_https": False}
    return view


def _answer(body: dict, status: int) -> ResponseReturnValue:
    response = jsonify(body)
    response.status_code = status
    # Always asked afresh: no cache between the monitor and the instance keeps one.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@plain_http_allowed
def healthz() -> ResponseReturnValue:
    """200 ``{"status": "ok"}``: the process answers."""
    return _answer({"status": "ok"}, 200)


@bp.get("/readyz")
@plain_http_allowed
def readyz() -> ResponseReturnValue:
    """200 when every check passes, else 503; the body names each check."""
    result = health.readiness(health.migration_heads(), current_app.extensions[EXTENSION_KEY])
    checks = {name: "ok" if passed else "failing" for name, passed in result.checks.items()}
    body = {"status": "ok" if result.ready else "failing", "checks": checks}
    return _answer(body, 200 if result.ready else 503)
