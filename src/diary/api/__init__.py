"""The JSON API under ``/api/v1``: JSON in, JSON out, problem+json errors only.

Built on flask-smorest (marshmallow-code). It was chosen over the alternatives
because it is a set of Blueprints and an ``Api`` object that plug into an
existing Flask app (APIFlask wants to *be* the app class), it validates query
strings and bodies with marshmallow and writes the OpenAPI 3 document from the
same schemas and decorators, so the contract cannot drift from the code, and it
is maintained alongside marshmallow, webargs and apispec and supports Flask 3.1.
Its app-wide error handler and CDN-loading doc pages are switched off here: the
API's own handlers (:mod:`diary.api.errors`) answer in problem+json inside the
API only, and the docs page is Diary's, with Swagger UI served from /static.
"""

from __future__ import annotations

from flask import Flask, request
from flask_smorest import Api

from diary.api import errors
from diary.api.errors import PROBLEM_JSON
from diary.api.schemas import ProblemSchema

PREFIX = "/api/v1"


class DiaryApi(Api):
    """flask-smorest's Api with Diary's error format.

    - Error responses in the document are ``application/problem+json`` with
      :class:`ProblemSchema`, as the handlers send them.
    - No app-wide HTTPException handler: the pages keep their HTML errors.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        # The API blueprints register their own handlers (errors.register).
        return None

    def _register_responses(self):
        import http

        from flask_smorest.utils import prepare_response

        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_JSON)
            else:
                prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


SPEC_KWARGS = {
    "title": "Diary API",
    "version": "1",
    "openapi_version": "3.0.3",
    "info": {
        "description": (
            "Read and write your diary from scripts and apps. Authenticate with a "
            "personal access token (Authorization: Bearer diary_pat_…), a "
            "Flask-Security auth token (Authentication-Token) or the browser session "
            "(plus X-CSRFToken on unsafe methods). Every error is "
            "application/problem+json (RFC 9457). See docs/api.md."
        )
    },
    "servers": [{"url": "/"}],
    "security": [{"personalAccessToken": []}, {"authToken": []}, {"session": []}],
}

SECURITY_SCHEMES = {
    "personalAccessToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token (diary_pat_…) made at /account/tokens; "
        "scopes entries:read and entries:write.",
    },
    "authToken": {
        "type": "apiKey",
        "in": "header",
        "name": "Authentication-Token",
        "description": "From POST /login with include_auth_token; valid 15 minutes.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The browser session; unsafe methods also need X-CSRFToken.",
    },
}


def init_app(app: Flask) -> None:
    """Mount the API on ``app``: its blueprints, its OpenAPI document and its errors.

    One ``Api`` per app (flask-smorest keeps the app and the spec on it).
    """
    from diary.api import docs, views
    from diary.extensions import csrf

    api = DiaryApi(app, spec_kwargs=dict(SPEC_KWARGS))
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    api.register_blueprint(views.blp)
    _document_entry_max_length(api, int(app.config["ENTRY_MAX_LENGTH"]))
    app.register_blueprint(docs.bp)
    for bp in (views.blp, docs.bp):
        # CSRF is checked by diary.api.auth once it knows the session is in use.
        csrf.exempt(bp)
    app.extensions["diary_api"] = api
    # answer_unrouted_api_request runs early in every request (diary.pipeline);
    # the body limit (API_MAX_BODY_BYTES here) is diary.security.body_limit's.


def _document_entry_max_length(api: DiaryApi, max_length: int) -> None:
    """Write the ENTRY_MAX_LENGTH setting into the document as ``maxLength``.

    The marshmallow schemas are classes fixed at import; this app's limit is a
    setting, enforced by the entries service (422 on the ``content`` field).
    """
    for name in ("EntryIn", "EntryPatch"):
        api.spec.components.schemas[name]["properties"]["content"]["maxLength"] = max_length


def in_api() -> bool:
    """Return whether the request is for a path under /api/v1."""
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def answer_unrouted_api_request():
    """Answer 404 and 405 for paths under /api/v1 in problem+json.

    No blueprint has matched such a request, so the blueprints' error handlers
    would never see it and the app's HTML error page would answer. Flask raises the
    routing error only after the before-request functions have run, so here it can
    still be answered in the API's format.
    """
    error = request.routing_exception
    if error is None or not in_api():
        return None
    if getattr(error, "code", 500) < 400:  # a redirect (trailing slash): let it be
        return None
    return errors.handle_http_error(error)
