"""schemathesis against the served OpenAPI document, with a valid token.

Every operation of /api/v1/openapi.json gets generated requests, valid and
invalid, signed in with a personal access token of a writer who already has some
entries (and with a token of somebody else in the database). Every response must
conform to the document (status code documented, content type, body schema), no
response may be a 5xx, and schemathesis's auth check must pass: the same request
without the token is refused. Bounded: a few dozen examples per operation, a
generous per-example deadline, no shrinking passes beyond the default.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from flask import request
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from diary.extensions import limiter
from tests.api.conftest import make_pat

MAX_EXAMPLES = 25


@pytest.fixture
def api_schema(app, demo_users):
    # Hundreds of requests in a few seconds: far over the API's limits, which
    # would turn most answers into 429s (documented, so schemathesis would pass
    # them) and leave the API itself untested.
    limiter.reset()
    app.config["API_RATE_LIMIT_PER_TOKEN"] = "100000 per minute"
    app.config["API_RATE_LIMIT_PER_USER"] = "100000 per minute"
    # Its auth check sends refused credentials too, from the same address.
    app.config["LIMIT_API_AUTH_FAILURES_PER_IP"] = "100000 per minute"
    secret, _ = make_pat(app, "writer@example.com")
    answered = app.config.setdefault("TEST_STATUSES_WITH_TOKEN", [])

    @app.after_request
    def _note_status(response):
        # What the API answered to requests that carried the token: the run below
        # must have reached the API itself, not only its auth and rate limits.
        if request.headers.get("Authorization") == f"Bearer {secret}":
            answered.append(response.status_code)
        return response

    # Some data for the generated requests to find: the writer's entries and another
    # writer's entry (which must come back 403, never 200 or 5xx).
    other, _ = make_pat(app, "test@me.com")
    client = app.test_client()
    for text in ("first", "second", "third"):
        client.post("/api/v1/entries", json={"content": text},
                    headers={"Authorization": f"Bearer {secret}"})
    client.post("/api/v1/entries", json={"content": "not yours"},
                headers={"Authorization": f"Bearer {other}"})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Every generated request carries this token, and schemathesis generates no
    # credentials of its own; its auth check then sends requests without the token.
    schema.config.headers = {"Authorization": f"Bearer {secret}"}
    schema.config.generation.with_security_parameters = False
    return schema


def _days_out_of_order(query: dict) -> bool:
    """Whether ``query`` has both days, well-formed, and ``to`` before ``from``."""
    from datetime import date

    try:
        return date.fromisoformat(str(query["to"])) < date.fromisoformat(str(query["from"]))
    except (KeyError, ValueError):
        return False


def _search_with_filters(query: dict) -> bool:
    """Whether ``query`` asks for a search together with a list filter."""
    return query.get("q") is not None and any(
        query.get(name) is not None for name in ("tag", "from", "to")
    )


def test_api_conforms_to_its_openapi_document(api_schema):
    # Each operation in turn, with valid and with invalid data. (Not
    # schemathesis.pytest.from_fixture: its lazy loader reads a pytest-private
    # attribute that pytest 9 no longer has.)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {
        "GET /api/v1/me",
        "GET /api/v1/entries",
        "POST /api/v1/entries",
        "GET /api/v1/entries/{entry_id}",
        "PATCH /api/v1/entries/{entry_id}",
        "DELETE /api/v1/entries/{entry_id}",
        "GET /api/v1/export",
        "GET /api/v1/tags",
    }
    for operation in operations:
        takes_input = operation.path_parameters or operation.query or operation.body
        # Nothing to make invalid in a request without inputs (GET /me).
        modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if takes_input else (
            GenerationMode.POSITIVE,
        )
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=timedelta(seconds=5),
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def check(case):
                # The token passed explicitly too: schemathesis then knows the
                # Authorization header is the configured credential, not a generated
                # one, also in requests that carry a generated header parameter
                # (Diary-Access-Reason), and probes the same request without it.
                token = {"Authorization": api_schema.config.headers["Authorization"]}
                query = case.query or {}
                if (query.get("cursor") is not None or _days_out_of_order(query)
                        or _search_with_filters(query)):
                    # A cursor is opaque: any string fits the schema, but only one
                    # made by the API is a cursor (400 otherwise, as documented). A
                    # `to` before `from` fits each parameter's schema but not the
                    # rule between them (422, as documented); nor does a search
                    # (`q`) with `tag`, `from` or `to` (400, as documented). All other checks
                    # still apply to these requests.
                    case.call_and_validate(headers=token, excluded_checks=[positive_data_acceptance])
                else:
                    case.call_and_validate(headers=token)

            check()
    answered = Counter(api_schema.app.config["TEST_STATUSES_WITH_TOKEN"])
    assert sum(n for status, n in answered.items() if 200 <= status < 300) >= 20, answered
    assert not [status for status in answered if status in (401, 429) or status >= 500], answered
