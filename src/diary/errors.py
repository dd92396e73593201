"""Error pages: every HTTP error is answered with a styled page in the site's
layout, with the right status and no internals."""

from __future__ import annotations

from flask import Flask, render_template, session
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from diary import unavailable

# What each status means for the person who hit it.
TITLES = {
    400: "That request could not be understood",
    403: "This page is not yours to see",
    404: "Nothing here",
    405: "That is not allowed here",
    413: "That is too large",
    422: "That could not be saved",
    429: "Slow down",
    500: "Something went wrong on our side",
    503: "Diary is unavailable for a moment",
}

UNAVAILABLE_MESSAGE = "Nothing was lost. Please try again in a little while."


def init_app(app: Flask) -> None:
    """Register the error handlers on ``app``."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
    for error_class in unavailable.ERRORS:
        app.register_error_handler(error_class, service_unavailable)


def render_error(code: int, message: str | None = None):
    """Return the error page for ``code`` as a ``(body, status)`` response."""
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=TITLES.get(code, "Error"),
            message=message,
        ),
        code,
    )


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    response = render_error(error.code, _message(error))
    if error.code == 405 and error.valid_methods:
        return response[0], response[1], {"Allow": ", ".join(error.valid_methods)}
    return response


def _csrf_error(error: CSRFError):
    store_error = getattr(session, "store_unavailable", None)
    if store_error:
        # The token is in the session, whose store is down: not the form's fault.
        return service_unavailable(unavailable.session_store_down(store_error))
    return render_error(
        400,
        "The form was missing its security token or it had expired. "
        "Go back, reload the page and try again; nothing was changed.",
    )


def service_unavailable(error: BaseException):
    """Return the 503 page with ``Retry-After`` for a database or Redis that cannot
    be reached (:mod:`diary.unavailable`); the failure is logged in one line.

    :raises: ``error`` itself if it is not a service being down (a bug: 500).
    """
    if not unavailable.is_unavailable(error):
        raise error
    unavailable.report(error)
    unavailable.forget_user()
    body, status = render_error(503, UNAVAILABLE_MESSAGE)
    return body, status, {"Retry-After": unavailable.retry_after()}


def _server_error(error: InternalServerError):
    # Raised where no handler by class runs (opening the session, saving it).
    down = unavailable.cause(error.original_exception)
    if down is not None:
        return service_unavailable(down)
    # Never show the original exception: it is logged by Flask, not shown.
    return render_error(500, "It has been logged. Please try again in a moment.")


def _message(error: HTTPException) -> str | None:
    # Werkzeug's stock descriptions are generic English; keep only messages a view
    # set on purpose (abort(400, "…")).
    default = type(error).description
    return error.description if error.description != default else None
