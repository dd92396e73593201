"""How much of a request body Diary reads: MAX_CONTENT_LENGTH (1 MiB) everywhere,
API_MAX_BODY_BYTES (64 KiB) under /api/v1; over it, 413 before anything reads it."""

from __future__ import annotations

import io

import pytest

from tests.api.conftest import problem_of
from tests.test_errors import styled

MIB = 1024 * 1024
TWO_MIB = 2 * MIB


class CountingStream(io.BytesIO):
    """A request body that tells how many of its bytes were read."""

    @property
    def read_bytes(self) -> int:
        return self.tell()  # nothing reads a request body backwards


def post(client, path, body: bytes, content_type, *, chunked=False, **kw):
    """POST ``body`` from a :class:`CountingStream`; return (response, stream)."""
    stream = CountingStream(body)
    if chunked:
        # What a WSGI server hands over for Transfer-Encoding: chunked: no
        # Content-Length, and a stream it ends itself (gunicorn, Werkzeug's server).
        environ = {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""}
        kw.setdefault("headers", {})["Transfer-Encoding"] = "chunked"
    else:
        environ = {"CONTENT_LENGTH": str(len(body))}
    response = client.post(path, input_stream=stream, content_type=content_type,
                           environ_overrides=environ, **kw)
    return response, stream


def form_of(size: int) -> bytes:
    return b"email=" + b"x" * (size - len(b"email="))


def test_default_is_one_mebibyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] == MIB


def test_a_page_refuses_two_mib_without_reading_them(client):
    response, stream = post(client, "/login", form_of(TWO_MIB), "application/x-www-form-urlencoded")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert styled(html) and "That is too large" in html and "1 MiB" in html
    assert stream.read_bytes == 0  # the Content-Length said enough


def test_a_json_sign_in_over_the_limit_gets_flask_securitys_json_error(client):
    body = b'{"email": "' + b"x" * TWO_MIB + b'"}'
    response, stream = post(client, "/login", body, "application/json")
    assert response.status_code == 413
    assert response.get_json()["meta"]["code"] == 413
    assert "1 MiB" in response.get_json()["response"]["errors"][0]
    assert stream.read_bytes == 0


def test_the_api_refuses_two_mib_in_problem_json(client):
    response, stream = post(client, "/api/v1/entries", b"x" * TWO_MIB, "application/json")
    assert problem_of(response, 413)["type"] == "/api/v1/problems/body-too-large"
    assert stream.read_bytes == 0


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
def test_a_chunked_body_is_read_no_further_than_the_limit(client, content_type):
    response, stream = post(client, "/login", form_of(TWO_MIB), content_type, chunked=True)
    assert response.status_code == 413
    assert stream.read_bytes <= MIB + 1


def test_a_chunked_api_body_is_read_no_further_than_the_api_limit(app, client):
    limit = app.config["API_MAX_BODY_BYTES"]
    response, stream = post(client, "/api/v1/entries", b"x" * TWO_MIB, "application/json",
                            chunked=True)
    problem_of(response, 413)
    assert stream.read_bytes <= limit + 1


@pytest.mark.parametrize("chunked", [False, True])
def test_the_limit_is_a_setting_and_a_body_at_it_is_read(app, client, chunked):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response, _ = post(client, "/login", form_of(1001), "application/x-www-form-urlencoded",
                       chunked=chunked)
    assert response.status_code == 413
    # Exactly at the limit: read, and the form is answered (no CSRF token: 400).
    response, stream = post(client, "/login", form_of(1000), "application/x-www-form-urlencoded",
                            chunked=chunked)
    assert response.status_code == 400
    assert stream.read_bytes == 1000


def test_pages_are_not_held_to_the_api_limit(app, client):
    body = form_of(app.config["API_MAX_BODY_BYTES"] * 2)
    response, stream = post(client, "/login", body, "application/x-www-form-urlencoded")
    assert response.status_code == 400  # read, then refused for its missing CSRF token
    assert stream.read_bytes == len(body)
