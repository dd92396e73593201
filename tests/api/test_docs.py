"""The OpenAPI document and the docs page: served locally, no inline code."""

from __future__ import annotations

import re
from pathlib import Path

import diary
from diary.api.schemas import CONTENT_PATTERN

STATIC = Path(diary.__file__).parent / "static"


def test_openapi_document_describes_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Diary API"
    assert set(spec["paths"]) == {
        "/api/v1/me", "/api/v1/entries", "/api/v1/entries/{entry_id}", "/api/v1/export",
        "/api/v1/tags",
    }
    assert set(spec["components"]["securitySchemes"]) == {"personalAccessToken", "authToken", "session"}
    assert spec["components"]["securitySchemes"]["personalAccessToken"]["scheme"] == "bearer"
    # Errors are documented as problem+json.
    post = spec["paths"]["/api/v1/entries"]["post"]
    assert "application/problem+json" in str(spec["components"]["responses"]["UNPROCESSABLE_ENTITY"])
    assert {"201", "401", "403", "413", "422", "429"} <= set(post["responses"])
    limit = next(p for p in spec["paths"]["/api/v1/entries"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 100


def test_document_carries_this_apps_entry_max_length(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["schemas"]["EntryIn"]["properties"]["content"]["maxLength"] == 280


def test_document_states_the_content_rule_as_the_api_checks_it(client):
    # The pattern the API checks is the one a client's validator is given.
    spec = client.get("/api/v1/openapi.json").get_json()
    for name in ("EntryIn", "EntryPatch"):
        assert spec["components"]["schemas"][name]["properties"]["content"]["pattern"] == CONTENT_PATTERN


def test_docs_page_uses_only_local_assets_and_no_inline_code(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the page loads its assets"
    for url in sources:
        assert url.startswith("/"), url  # this site only, no CDN
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in sources
    assert "/static/js/api-docs.js" in sources
    # No inline script or style: they would need 'unsafe-inline' in the CSP.
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert "<style" not in html and "style=" not in html
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    for url in sources:
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url


def test_vendored_swagger_ui_keeps_its_license():
    vendor = STATIC / "vendor" / "swagger-ui"
    assert "Apache License" in (vendor / "LICENSE").read_text()
    assert "swagger-ui-dist 5." in (vendor / "VERSION").read_text()


def test_the_python_example_in_docs_api_md_works(app, demo_users, monkeypatch, capsys):
    """Run docs/api.md's Python example against the app on a real port."""
    import sys
    import threading

    from werkzeug.serving import make_server

    from tests.api.conftest import make_pat

    text = (Path(diary.__file__).parents[2] / "docs" / "api.md").read_text()
    example = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert len(example.strip().splitlines()) <= 25
    secret, _ = make_pat(app, "writer@example.com")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("DIARY_URL", f"http://127.0.0.1:{server.port}")
        monkeypatch.setenv("DIARY_TOKEN", secret)
        monkeypatch.setattr(sys, "argv", ["diary-post", "Written", "from", "docs"])
        exec(compile(example, "docs/api.md", "exec"), {"__name__": "__main__"})
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert "Written from docs" in capsys.readouterr().out


def test_every_problem_type_leads_to_a_page_that_explains_it(client):
    from markupsafe import escape

    from diary.api import errors

    types = errors.problem_types()
    assert {slug for slug, *_ in types} >= {"invalid-token", "too-many-failures", "server-error"}
    for slug, status, title, when in types:
        response = client.get(errors.TYPE_PREFIX + slug)
        assert response.status_code == 200 and response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert f"<h1>{title}</h1>" in page and str(status) in page
        assert str(escape(when)) in page
    index = client.get("/api/v1/problems").get_data(as_text=True)
    assert all(f'href="{errors.TYPE_PREFIX}{slug}"' in index for slug, *_ in types)


def test_an_unknown_problem_type_is_a_404_problem(client):
    response = client.get("/api/v1/problems/no-such-thing")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_docs_list_the_same_problem_types_as_the_code():
    from diary.api import errors

    api_md = (Path(diary.__file__).parents[2] / "docs" / "api.md").read_text()
    documented = set(re.findall(r"^\| (\d{3}) \| `([a-z-]+)` \|", api_md, re.M))
    sent = {(str(status), slug) for slug, status, *_ in errors.problem_types()}
    # Every type the docs name is one the code has and means the same status;
    # the statuses the API never answers with on purpose need no line there.
    assert documented <= sent
    assert {slug for _, slug in documented} >= {
        "invalid-token", "too-many-failures", "rate-limited", "validation-error",
        "account-locked", "insufficient-scope", "csrf-failed", "invalid-cursor",
    }


def test_document_gives_the_date_filter_as_days(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/entries"]["get"]["parameters"]}
    for name in ("from", "to"):
        assert parameters[name]["in"] == "query"
        schema = parameters[name]["schema"]
        assert (schema["type"], schema["format"]) == ("string", "date")
        assert "time zone" in parameters[name]["description"]
    assert "from_" not in parameters
