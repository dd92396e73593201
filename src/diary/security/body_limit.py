"""How much of a request body Diary reads: ``MAX_CONTENT_LENGTH`` (Flask's own
setting, 1 MiB by default), or the smaller ``API_MAX_BODY_BYTES`` under ``/api/v1``.

Without a limit, anybody could make a worker hold any body in memory: Werkzeug
reads a urlencoded form or a JSON body whole before parsing it (a 60 MB anonymous
``POST /login`` once took a worker from 106 MB to 291 MB). One hook, among the
first of all (:mod:`diary.pipeline`), looks at the body before anything else reads it
(Flask-WTF's CSRF check reads the form, Flask-Security's token loader the JSON):

- a ``Content-Length`` over the limit is refused at once, nothing read;
- a body without one (``Transfer-Encoding: chunked``) is read now, at most one
  byte past the limit, and refused if it has that byte; what was read is kept for
  the view, which then reads it from memory;
- the limit is set on the request, so Werkzeug holds every later read to it too.

One endpoint takes more: the import upload (``web.import_upload``) reads a file
of up to ``IMPORT_MAX_BYTES`` plus :data:`FORM_OVERHEAD` for the form around it
(:data:`UPLOAD_LIMITS`). Werkzeug spools a file part of that size to a temporary
file rather than memory, and the form's other fields stay held to Flask's
``MAX_FORM_MEMORY_SIZE``. Every other endpoint keeps the limits above.

The refusal is a 413 in the format of where it was sent: problem+json inside the
API, Flask-Security's JSON error shape for a JSON request to one of its endpoints
(as the rate limits answer there), else Diary's styled error page.
"""

from __future__ import annotations

from flask import current_app, request
from flask_security.utils import json_error_response
from werkzeug.exceptions import RequestEntityTooLarge

from diary import errors
from diary.security.core import security


# Endpoints that take an upload larger than MAX_CONTENT_LENGTH: the setting that
# bounds the file. Their limit is that plus FORM_OVERHEAD (multipart boundaries and
# headers, the CSRF token).
UPLOAD_LIMITS = {"web.import_upload": "IMPORT_MAX_BYTES"}
FORM_OVERHEAD = 16 * 1024


def request_limit(in_api: bool) -> int | None:
    """Return how many body bytes this request may have (None: no limit)."""
    upload = UPLOAD_LIMITS.get(request.endpoint or "")
    if upload is not None and request.method == "POST":
        return int(current_app.config[upload]) + FORM_OVERHEAD
    limit = current_app.config["API_MAX_BODY_BYTES" if in_api else "MAX_CONTENT_LENGTH"]
    return None if limit is None else int(limit)


def limit_body():
    """Refuse a request body over this request's limit; return the 413 or None."""
    from diary import api

    in_api = api.in_api()
    limit = request_limit(in_api)
    if limit is None:
        return None
    if request.content_length is not None:
        request.max_content_length = limit
        too_large = request.content_length > limit
    elif request.environ.get("wsgi.input_terminated"):
        # A stream the server ends itself: Werkzeug reads it up to the limit and
        # stops without saying whether more was coming. Read one byte past the
        # limit (the stream takes its limit from here, when it is first used) to
        # tell a body of exactly ``limit`` bytes from a larger one.
        request.max_content_length = limit + 1
        too_large = len(request.get_data(cache=True)) > limit
        request.max_content_length = limit
    else:
        return None  # no length and no terminated stream: Werkzeug reads nothing
    return _too_large(limit, in_api) if too_large else None


def _too_large(limit: int, in_api: bool):
    if in_api:
        from diary.api import errors as api_errors

        detail = f"Request bodies can be at most {limit} bytes."
        return api_errors.handle_http_error(RequestEntityTooLarge(detail))
    message = f"Requests to this site can be at most {_size(limit)}; nothing was saved."
    if request.blueprint == "security" and security._want_json(request):
        return security._render_json(json_error_response(errors=message), 413, None, None)
    return errors.render_error(413, message)


def _size(n: int) -> str:
    """Return ``n`` bytes as people write it: 1 MiB, 64 KiB, 1000 bytes."""
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"
