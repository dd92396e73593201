"""GET /api/v1/export: the whole diary as a file, for a token with entries:read."""

from __future__ import annotations

import io
import json
import zipfile

import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent
from diary.services.audit import AuditTag
from tests.api.conftest import make_pat


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def exported_events(app):
    with app.app_context():
        return [e.details for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.tag == str(AuditTag.ENTRIES_EXPORTED))
        )]


def test_export_json_streams_the_callers_entries_only(app, client, demo_users):
    secret, _ = make_pat(app, "writer@example.com")
    other, _ = make_pat(app, "test@me.com")
    client.post("/api/v1/entries", json={"content": "mine #api"}, headers=bearer(secret))
    client.post("/api/v1/entries", json={"content": "not mine"}, headers=bearer(other))
    response = client.get("/api/v1/export", headers=bearer(secret))
    assert response.status_code == 200
    assert "Content-Length" not in response.headers  # streamed, not built whole first
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="diary-export-')
    assert "no-store" in response.headers["Cache-Control"]
    body = json.loads(response.get_data(as_text=True))
    assert (body["format"], body["version"]) == ("diary-export", 1)
    assert [(e["content"], e["tags"]) for e in body["entries"]] == [("mine #api", ["api"])]
    assert exported_events(app) == [{"format": "json", "count": 1}]


def test_export_zip(app, client, demo_users):
    secret, _ = make_pat(app, "writer@example.com")
    client.post("/api/v1/entries", json={"content": "zipped"}, headers=bearer(secret))
    response = client.get("/api/v1/export?format=zip", headers=bearer(secret))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert len(archive.namelist()) == 1
    assert exported_events(app) == [{"format": "zip", "count": 1}]


def test_export_needs_the_read_scope(app, client, demo_users):
    secret, _ = make_pat(app, "writer@example.com", scopes=("entries:write",))
    response = client.get("/api/v1/export", headers=bearer(secret))
    assert response.status_code == 403
    assert exported_events(app) == []


def test_export_refuses_an_unknown_format(app, client, demo_users):
    secret, _ = make_pat(app, "writer@example.com")
    response = client.get("/api/v1/export?format=pdf", headers=bearer(secret))
    assert response.status_code == 422
    assert exported_events(app) == []


def test_export_needs_a_credential(client, demo_users):
    assert client.get("/api/v1/export").status_code == 401
