"""The export and import pages: downloads by POST, the upload, its preview and
confirmation, the refusals, and the larger body limit of the upload alone."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, Entry, User
from diary.services.audit import AuditTag
from tests.conftest import csrf_token

DAY_ONE = (Path(__file__).resolve().parent.parent / "data" / "dayone.json").read_bytes()
UPLOAD_RE = re.compile(r'id="upload" name="upload" type="hidden" value="([^"]+)"')


@pytest.fixture
def writer(client, auth, demo_users):
    auth.login()
    return demo_users["writer@example.com"]


def write(client, text):
    client.post("/new_entry", data={"content": text, "csrf_token": csrf_token(client, "/")})


def entries_of(app, user_id):
    with app.app_context():
        return [e.content for e in db.session.scalars(
            sa.select(Entry).where(Entry.user_id == user_id).order_by(Entry.created_at)
        )]


def tagged_events(app, tag):
    with app.app_context():
        return [e.details for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.tag == str(tag))
        )]


def pending_files(app):
    folder = os.path.join(app.instance_path, "imports")
    return os.listdir(folder) if os.path.isdir(folder) else []


def upload(client, data: bytes, name="export.json"):
    token = csrf_token(client, "/account/import")
    return client.post(
        "/account/import",
        data={"file": (io.BytesIO(data), name), "csrf_token": token},
        content_type="multipart/form-data",
    )


def confirm(client, preview, button="confirm"):
    html = preview.get_data(as_text=True)
    name = UPLOAD_RE.search(html).group(1)
    token = csrf_token(client, "/account/import")
    return client.post("/account/import/confirm",
                       data={"upload": name, button: "1", "csrf_token": token})


# --- Export --------------------------------------------------------------------------


def test_the_account_page_links_to_export_and_import(client, writer):
    html = client.get("/account").get_data(as_text=True)
    assert 'href="/account/export"' in html and 'href="/account/import"' in html


def test_the_export_page_only_shows_the_form_and_records_nothing(app, client, writer):
    response = client.get("/account/export")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'action="/account/export" method="post"' in html
    assert 'value="json"' in html and 'value="zip"' in html
    assert tagged_events(app, AuditTag.ENTRIES_EXPORTED) == []


def test_the_json_download_streams_every_entry_and_is_recorded(app, client, writer):
    write(client, "first #one")
    write(client, "second")
    response = client.post("/account/export",
                           data={"format": "json", "csrf_token": csrf_token(client, "/account/export")})
    assert response.status_code == 200
    assert "Content-Length" not in response.headers  # streamed, not built whole first
    assert response.mimetype == "application/json"
    assert re.fullmatch(r'attachment; filename="diary-export-\d{4}-\d{2}-\d{2}\.json"',
                        response.headers["Content-Disposition"])
    assert "no-store" in response.headers["Cache-Control"]
    exported = json.loads(response.get_data(as_text=True))
    assert [(e["content"], e["tags"]) for e in exported["entries"]] == [
        ("first #one", ["one"]), ("second", []),
    ]
    assert tagged_events(app, AuditTag.ENTRIES_EXPORTED) == [{"format": "json", "count": 2}]


def test_the_download_reads_the_entries_only_as_it_is_sent(app, client, writer):
    for i in range(3):
        write(client, f"entry {i}")
    app.config["EXPORT_BATCH_SIZE"] = 1
    reads = []
    with app.app_context():
        engine = db.engine
    def note(conn, cursor, statement, *args):
        if "FROM entry" in statement and "LIMIT" in statement:
            reads.append(statement)
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.post(
            "/account/export", buffered=False,
            data={"format": "json", "csrf_token": csrf_token(client, "/account/export")},
        )
        assert response.status_code == 200
        assert "Content-Length" not in response.headers
        assert reads == []  # the response started before any entry was read
        body = response.get_data(as_text=True)
        assert len(reads) == 4  # a batch of one per entry, and the empty last one
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    assert [e["content"] for e in json.loads(body)["entries"]] == ["entry 0", "entry 1", "entry 2"]


def test_the_zip_download_holds_the_markdown_files(app, client, writer):
    write(client, "a zipped #entry")
    response = client.post("/account/export",
                           data={"format": "zip", "csrf_token": csrf_token(client, "/account/export")})
    assert response.status_code == 200 and "Content-Length" not in response.headers
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    [name] = archive.namelist()
    assert archive.read(name).decode().endswith('tags: ["entry"]\n---\na zipped #entry\n')


def test_the_download_needs_the_csrf_token(app, client, writer):
    response = client.post("/account/export", data={"format": "json"})
    assert response.status_code == 400
    assert tagged_events(app, AuditTag.ENTRIES_EXPORTED) == []


def test_an_unknown_format_is_refused(app, client, writer):
    response = client.post("/account/export",
                           data={"format": "pdf", "csrf_token": csrf_token(client, "/account/export")})
    assert response.status_code == 422
    assert tagged_events(app, AuditTag.ENTRIES_EXPORTED) == []


def test_anonymous_visitors_are_sent_to_sign_in(client, demo_users):
    assert client.get("/account/export").status_code == 302
    assert client.get("/account/import").status_code == 302


# --- Import --------------------------------------------------------------------------


def test_a_day_one_file_is_previewed_then_imported(app, client, writer):
    preview = upload(client, DAY_ONE, "Journal.json")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    summary = re.sub(r"\s+", " ", re.search(
        r'data-testid="import-summary">(.*?)</p>', html, re.S).group(1))
    assert "This Day One export holds <strong>3 entries to import</strong>, written from " \
           "2023-03-14 to 2024-01-01." in summary
    assert "1 entry has no text and will be skipped." in summary
    assert "Saw a heron by the canal" in html
    assert entries_of(app, writer) == []  # nothing yet
    assert len(pending_files(app)) == 1

    done = confirm(client, preview)
    assert done.status_code == 302 and done.location == "/"
    assert len(entries_of(app, writer)) == 3
    assert pending_files(app) == []
    page = client.get("/").get_data(as_text=True)
    assert ("Imported 3 entries from the Day One export; skipped 1 entry without text."
            in page)
    assert tagged_events(app, AuditTag.ENTRIES_IMPORTED)[0]["imported"] == 3


def test_importing_the_same_file_again_skips_the_duplicates(app, client, writer):
    confirm(client, upload(client, DAY_ONE))
    preview = upload(client, DAY_ONE)
    html = preview.get_data(as_text=True)
    assert "<strong>0 entries to import</strong>" in html
    assert "3 entries are already in your diary and will be skipped." in html
    assert "Import these entries" not in html  # nothing to confirm
    confirm(client, preview, button="cancel")
    assert len(entries_of(app, writer)) == 3


def test_a_confirmation_sweeps_uploads_nobody_confirmed(app, client, writer):
    preview = upload(client, DAY_ONE)
    stale = os.path.join(app.instance_path, "imports", "B" * 32)  # an abandoned upload
    with open(stale, "wb") as kept:
        kept.write(b"{}")
    old = os.path.getmtime(stale) - app.config["IMPORT_PENDING_SECONDS"] - 60
    os.utime(stale, (old, old))
    assert len(pending_files(app)) == 2
    confirm(client, preview)
    assert pending_files(app) == []


def test_cancel_drops_the_upload_and_imports_nothing(app, client, writer):
    done = confirm(client, upload(client, DAY_ONE), button="cancel")
    assert done.status_code == 302
    assert entries_of(app, writer) == [] and pending_files(app) == []


def test_an_upload_not_this_sessions_imports_nothing(app, client, writer):
    preview = upload(client, DAY_ONE)
    token = csrf_token(client, "/account/import")
    response = client.post("/account/import/confirm",
                           data={"upload": "A" * 32, "confirm": "1", "csrf_token": token})
    assert response.status_code == 302
    assert entries_of(app, writer) == []
    confirm(client, preview)  # the real one still works
    assert len(entries_of(app, writer)) == 3


def test_an_expired_upload_imports_nothing(app, client, writer):
    preview = upload(client, DAY_ONE)
    app.config["IMPORT_PENDING_SECONDS"] = -1
    response = confirm(client, preview)
    assert response.status_code == 302
    assert "That upload has expired" in client.get("/account/import").get_data(as_text=True)
    assert entries_of(app, writer) == [] and pending_files(app) == []


@pytest.mark.parametrize(
    "data, reason",
    [
        (DAY_ONE[:500], "The file is not valid JSON: "),
        (json.dumps({"format": "diary-export", "version": 7, "exported_at": "x", "entries": []}).encode(),
         "version: this file is version 7 of the Diary export format; this Diary reads version 1."),
        (DAY_ONE.replace(b'"2024-01-01T00:30:15Z"', b'"soon"'),
         "entries[3].creationDate: not an ISO 8601 time: &#39;soon&#39;."),
    ],
    ids=["truncated", "wrong-version", "bad-date"],
)
def test_a_bad_file_is_refused_with_its_reason_and_kept_nowhere(app, client, writer, data, reason):
    response = upload(client, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This file cannot be imported, so nothing was imported: " + reason in html
    assert entries_of(app, writer) == [] and pending_files(app) == []


def test_an_oversize_file_is_refused_with_its_size(app, client, writer):
    app.config["IMPORT_MAX_BYTES"] = 1000
    response = upload(client, DAY_ONE)
    assert response.status_code == 422
    assert ("The file has more than 1000 bytes, the most an import can have."
            in response.get_data(as_text=True))
    assert entries_of(app, writer) == [] and pending_files(app) == []


def test_a_body_far_over_the_import_limit_is_refused_unread(app, client, writer):
    from diary.security.body_limit import FORM_OVERHEAD

    app.config["IMPORT_MAX_BYTES"] = 1000
    response = upload(client, b" " * (1000 + FORM_OVERHEAD + 1))
    assert response.status_code == 413
    assert entries_of(app, writer) == []


def big_export(n: int) -> bytes:
    return json.dumps({
        "format": "diary-export", "version": 1, "exported_at": "2026-01-01T00:00:00Z",
        "entries": [{"id": i + 1, "created_at": f"2020-01-01T00:00:{i % 60:02d}.{i:06d}Z",
                     "updated_at": "2020-01-02T00:00:00Z", "content": f"{i} " + "x" * 250,
                     "tags": []} for i in range(n)],
    }).encode()


def test_only_the_upload_takes_bodies_over_max_content_length(app, client, writer):
    data = big_export(4500)
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    preview = upload(client, data)
    assert preview.status_code == 200
    assert "<strong>4500 entries to import</strong>" in preview.get_data(as_text=True)
    # The same body is refused at every other endpoint, the confirmation included.
    token = csrf_token(client, "/account/import")
    for path in ("/account/import/confirm", "/new_entry"):
        response = client.post(path, data={"file": (io.BytesIO(data), "x.json"),
                                           "csrf_token": token},
                               content_type="multipart/form-data")
        assert response.status_code == 413, path
    confirm(client, preview)
    assert len(entries_of(app, writer)) == 4500


def test_import_needs_entry_create(app, client, auth, demo_users):
    from diary import permissions
    from diary.security.core import security

    with app.app_context():
        role = security.datastore.find_role(permissions.WRITER)
        security.datastore.remove_permissions_from_role(role, [permissions.ENTRY_CREATE])
        db.session.commit()
    auth.login()
    assert client.get("/account/import").status_code == 403
    token = csrf_token(client, "/account")
    response = client.post("/account/import", data={"file": (io.BytesIO(DAY_ONE), "j.json"),
                                                   "csrf_token": token},
                           content_type="multipart/form-data")
    assert response.status_code == 403
    assert pending_files(app) == []
    assert 'href="/account/import"' not in client.get("/account").get_data(as_text=True)


def test_exports_and_imports_show_in_the_activity_log(client, writer):
    confirm(client, upload(client, DAY_ONE))
    client.post("/account/export",
                data={"format": "zip", "csrf_token": csrf_token(client, "/account/export")}).get_data()
    html = client.get("/account/activity").get_data(as_text=True)
    assert "Entries exported (3 as zip)" in html
    assert "Entries imported (3 from a Day One export, 0 duplicates skipped)" in html
