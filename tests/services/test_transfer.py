"""Export and import: the formats, the round trip, Day One, refusals, duplicates,
streaming and the audit events."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema_rs
import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, Entry, User
from diary.services import credentials, transfer
from diary.services.audit import AuditTag
from diary.services.entries import EntryAccessDenied

DAY_ONE = Path(__file__).resolve().parent.parent / "data" / "dayone.json"
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "export.schema.json"
UTC = timezone.utc


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def alice(ctx, make_user):
    return credentials.for_user(db.session.get(User, make_user("alice@example.com")))


@pytest.fixture
def bob(ctx, make_user):
    return credentials.for_user(db.session.get(User, make_user("bob@example.com")))


def add(user, content, created, updated=None):
    entry = Entry(user_id=user.id, content=content, created_at=created,
                  updated_at=updated or created)
    db.session.add(entry)
    db.session.commit()
    return entry


def some_entries(user):
    """Entries with microseconds, edits, Unicode, tags and a line break."""
    add(user, "Walked along the #canal. #Herons!", datetime(2025, 3, 1, 7, 0, 0, 123456, UTC),
        datetime(2025, 3, 2, 8, 30, 0, 654321, UTC))
    add(user, "Café au lait ☕ and a \"quote\"\nsecond line #morning-coffee",
        datetime(2025, 3, 1, 7, 0, 0, 123457, UTC))
    add(user, "No tags here, just text", datetime(2026, 1, 5, 23, 59, 59, tzinfo=UTC))


def json_export(owner_id: int) -> dict:
    return json.loads("".join(transfer.export_json(owner_id)))


def entries_of(user_id: int) -> list[Entry]:
    return list(db.session.scalars(
        sa.select(Entry).where(Entry.user_id == user_id).order_by(Entry.created_at)
    ))


def events(tag: AuditTag) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.tag == str(tag))))


# --- Export --------------------------------------------------------------------------


def test_the_json_export_holds_every_entry_oldest_first_with_times_and_tags(alice, bob):
    some_entries(alice)
    add(bob, "bob's own", datetime(2025, 1, 1, tzinfo=UTC))
    exported = json_export(alice.id)
    assert exported["format"] == "diary-export" and exported["version"] == 1
    assert exported["exported_at"].endswith("Z")
    assert [e["content"] for e in exported["entries"]] == [
        "Walked along the #canal. #Herons!",
        "Café au lait ☕ and a \"quote\"\nsecond line #morning-coffee",
        "No tags here, just text",
    ]
    first = exported["entries"][0]
    assert first["created_at"] == "2025-03-01T07:00:00.123456Z"
    assert first["updated_at"] == "2025-03-02T08:30:00.654321Z"
    assert first["tags"] == ["canal", "herons"]
    assert exported["entries"][1]["tags"] == ["morning-coffee"]
    assert exported["entries"][2]["tags"] == []
    assert set(first) == {"id", "created_at", "updated_at", "content", "tags"}


def test_the_json_export_matches_its_json_schema(alice):
    some_entries(alice)
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    validator.validate(json_export(alice.id))
    validator.validate(json_export(12345))  # an empty diary too
    # The schema does refuse what is not an export.
    assert not validator.is_valid({**json_export(alice.id), "version": 2})


def test_the_export_streams_in_batches_never_loading_the_whole_diary(ctx, alice, monkeypatch):
    ctx.config["EXPORT_BATCH_SIZE"] = 2
    for i in range(5):
        add(alice, f"entry {i}", datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=i))
    statements = []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda *a: statements.append(a[2]) if "FROM entry" in a[2] else None)
    chunks = transfer.export_json(alice.id)
    assert statements == []  # a generator: nothing read before it is consumed
    next(chunks)
    next(chunks)  # the first entry: one batch of two read
    assert len(statements) == 1
    rest = list(chunks)
    # Five entries in batches of two: three reads, each limited to the batch size.
    assert len(statements) == 3
    assert all("LIMIT" in s for s in statements)
    assert sum(1 for c in rest if '"content"' in c) == 4


def test_the_zip_holds_one_markdown_file_per_entry_with_yaml_front_matter(alice):
    some_entries(alice)
    data = b"".join(transfer.export_zip(alice.id))
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    ids = [e.id for e in entries_of(alice.id)]
    assert names == [f"diary/2025-03-01-{ids[0]}.md", f"diary/2025-03-01-{ids[1]}.md",
                     f"diary/2026-01-05-{ids[2]}.md"]
    text = archive.read(names[1]).decode()
    front, body = text.split("---\n", 2)[1:]
    assert body == "Café au lait ☕ and a \"quote\"\nsecond line #morning-coffee\n"
    try:
        import yaml
    except ImportError:  # PyYAML is not a dependency: check the lines themselves
        meta = dict(line.split(": ", 1) for line in front.splitlines())
        meta = {key: json.loads(value) for key, value in meta.items()}
    else:
        meta = yaml.safe_load(front)
    assert meta == {"id": ids[1], "date": "2025-03-01T07:00:00.123457Z",
                    "updated": "2025-03-01T07:00:00.123457Z", "tags": ["morning-coffee"]}


def test_the_zip_streams_a_member_per_entry(alice):
    some_entries(alice)
    chunks = list(transfer.export_zip(alice.id))
    # One piece per entry (its header, text and data descriptor), then the directory.
    assert len(chunks) == 4
    assert all(chunks)


def test_export_is_recorded_with_its_format_and_count(alice):
    some_entries(alice)
    exported = transfer.export(alice, "zip", ip="192.0.2.1", user_agent="tests")
    assert exported.mimetype == "application/zip" and exported.filename.endswith(".zip")
    [event] = events(AuditTag.ENTRIES_EXPORTED)
    assert event.user_id == alice.id and event.ip == "192.0.2.1"
    assert event.details == {"format": "zip", "count": 3}


def test_an_unknown_format_is_refused_before_anything_is_recorded(alice):
    with pytest.raises(ValueError):
        transfer.export(alice, "pdf")
    assert events(AuditTag.ENTRIES_EXPORTED) == []


def test_export_needs_read_own(ctx, alice):
    from diary import permissions
    from diary.services.credentials import Identity

    limited = Identity(alice.user, alice.kind, alice.strength,
                       alice.permissions - {permissions.ENTRY_READ_OWN})
    with pytest.raises(EntryAccessDenied):
        transfer.export(limited, "json")
    assert events(AuditTag.ENTRIES_EXPORTED) == []


# --- The round trip ------------------------------------------------------------------


def without_ids_and_time(exported: dict) -> dict:
    return {**exported, "exported_at": None,
            "entries": [{k: v for k, v in e.items() if k != "id"} for e in exported["entries"]]}


def test_export_delete_import_export_gives_the_same_file(alice):
    some_entries(alice)
    first = "".join(transfer.export_json(alice.id))
    old_ids = [e.id for e in entries_of(alice.id)]
    db.session.execute(sa.delete(Entry).where(Entry.user_id == alice.id))
    db.session.commit()

    report = transfer.import_entries(alice, transfer.read_file(first.encode()))
    assert (report.imported, report.duplicates, report.empty) == (3, 0, 0)
    second = "".join(transfer.export_json(alice.id))

    # What may differ, and only that: the time of the export and the entries' ids,
    # which are the new rows' (PostgreSQL gives new numbers; SQLite may reuse the
    # freed ones).
    one, two = json.loads(first), json.loads(second)
    assert [e["id"] for e in one["entries"]] == old_ids
    assert [e["id"] for e in two["entries"]] == [e.id for e in entries_of(alice.id)]
    assert without_ids_and_time(one) == without_ids_and_time(two)
    # Content, both times to the microsecond, and tags, entry by entry.
    assert [(e["content"], e["created_at"], e["updated_at"], e["tags"]) for e in one["entries"]] \
        == [(e["content"], e["created_at"], e["updated_at"], e["tags"]) for e in two["entries"]]


def test_importing_ones_own_export_again_skips_every_entry(alice):
    some_entries(alice)
    data = "".join(transfer.export_json(alice.id)).encode()
    report = transfer.import_entries(alice, transfer.read_file(data))
    assert (report.imported, report.duplicates) == (0, 3)
    assert len(entries_of(alice.id)) == 3


def test_another_users_export_imports_into_ones_own_diary(alice, bob):
    some_entries(alice)
    data = "".join(transfer.export_json(alice.id)).encode()
    report = transfer.import_entries(bob, transfer.read_file(data))
    assert report.imported == 3
    assert [e.content for e in entries_of(bob.id)] == [e.content for e in entries_of(alice.id)]


# --- Day One -------------------------------------------------------------------------


def test_the_day_one_sample_imports_with_its_dates_and_tags(alice):
    found = transfer.read_file(DAY_ONE.read_bytes())
    assert found.source == "Day One export"
    plan = transfer.plan_import(alice, found)
    assert (len(plan.new), plan.duplicates, plan.empty) == (3, 0, 1)
    assert plan.first == datetime(2023, 3, 14, 7, 12, 45, tzinfo=UTC)
    assert plan.last == datetime(2024, 1, 1, 0, 30, 15, tzinfo=UTC)

    report = transfer.import_entries(alice, found)
    assert (report.imported, report.empty) == (3, 1)
    heron, lisbon, new_year = entries_of(alice.id)
    assert heron.created_at == datetime(2023, 3, 14, 7, 12, 45, tzinfo=UTC)
    assert heron.updated_at == datetime(2023, 3, 14, 8, 2, 11, tzinfo=UTC)
    # "walks" is already a #word of the text; "Birds" is added as a last line.
    assert heron.content == (
        "Saw a heron by the canal\\. It stood still for ten minutes #walks\n\n#birds"
    )
    assert lisbon.content.endswith("open window.\n\n#road-trip #food")
    assert new_year.content == "New year. Fireworks over the river, then home to bed."
    exported = json_export(alice.id)["entries"]
    assert [e["tags"] for e in exported] == [["birds", "walks"], ["food", "road-trip"], []]
    # The tags are stored too, as for an entry written on the page: the tag filter
    # and the tag list find the imported entries.
    from diary.services import tags

    assert tags.user_tags(alice.id) == [("birds", 1), ("food", 1), ("road-trip", 1), ("walks", 1)]


# --- Refusals: nothing is imported ---------------------------------------------------


def refused(alice, data: bytes) -> str:
    with pytest.raises(transfer.ImportInvalid) as caught:
        transfer.import_entries(alice, transfer.read_file(data))
    assert entries_of(alice.id) == []
    assert events(AuditTag.ENTRIES_IMPORTED) == []
    return str(caught.value)


def a_diary_file(n: int = 3, **changes) -> dict:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    document = {"format": "diary-export", "version": 1, "exported_at": "2026-01-01T00:00:00Z",
                "entries": [{"id": i + 1, "created_at": transfer.stamp(start + timedelta(days=i)),
                             "updated_at": transfer.stamp(start + timedelta(days=i)),
                             "content": f"day {i}", "tags": []} for i in range(n)]}
    document.update(changes)
    return document


def test_a_truncated_file_is_refused_with_its_line_and_column(alice):
    data = json.dumps(a_diary_file(), indent=1).encode()
    message = refused(alice, data[: len(data) // 2])
    assert message.startswith("The file is not valid JSON: ")
    assert " at line " in message and ", column " in message


def test_a_wrong_schema_version_is_refused(alice):
    message = refused(alice, json.dumps(a_diary_file(version=2)).encode())
    assert message == ("version: this file is version 2 of the Diary export format; "
                       "this Diary reads version 1.")


def test_an_oversize_file_is_refused(ctx, alice):
    data = json.dumps(a_diary_file(50)).encode()
    ctx.config["IMPORT_MAX_BYTES"] = len(data) - 1
    message = refused(alice, data)
    assert message == f"The file has more than {len(data) - 1} bytes, the most an import can have."


def test_too_many_entries_are_refused(ctx, alice):
    ctx.config["IMPORT_MAX_ENTRIES"] = 2
    assert refused(alice, json.dumps(a_diary_file(3)).encode()) == (
        "entries: the file has 3 entries; an import can have at most 2."
    )


@pytest.mark.parametrize(
    "index, field, value, expected",
    [
        (2, "created_at", "yesterday", "entries[2].created_at: not an ISO 8601 time: 'yesterday'."),
        (1, "created_at", "2025-01-01T10:00:00",
         "entries[1].created_at: an ISO 8601 time without a time zone: '2025-01-01T10:00:00'."),
        (0, "updated_at", None, "entries[0].updated_at: missing, or not a string."),
        (1, "content", "   ", "entries[1].content: empty; an entry cannot be empty."),
        (2, "content", "x" * 281, "entries[2].content: 281 characters; an entry can be at most 280."),
        (0, "content", "nul\x00", "entries[0].content: contains a NUL character or an unpaired surrogate."),
    ],
)
def test_a_bad_entry_is_refused_naming_its_field(alice, index, field, value, expected):
    document = a_diary_file()
    document["entries"][index][field] = value
    assert refused(alice, json.dumps(document).encode()) == expected


def test_a_bad_day_one_entry_is_refused_naming_its_field(alice):
    document = json.loads(DAY_ONE.read_text())
    document["entries"][3]["creationDate"] = "2024-13-01T00:00:00Z"
    assert refused(alice, json.dumps(document).encode()) == (
        "entries[3].creationDate: not an ISO 8601 time: '2024-13-01T00:00:00Z'."
    )


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"\xff\xfe{}", "The file is not UTF-8 text (byte 0 cannot be read)."),
        (b"[1, 2]", "The file is JSON, but not an object: not a Diary or Day One export."),
        (b'{"format": "other"}', 'format: not "diary-export": not a Diary export.'),
        (b'{"hello": 1}', 'Not a Diary export (no "format") nor a Day One JSON export '
                          '(no "metadata" and "entries").'),
        (b'{"format": "diary-export", "version": 1, "entries": {}}', "entries: missing, or not a list."),
    ],
)
def test_files_that_are_no_export_are_refused(alice, data, expected):
    assert refused(alice, data) == expected


def test_one_bad_entry_among_good_ones_imports_nothing(alice):
    document = a_diary_file(10)
    document["entries"][9]["created_at"] = "not a time"
    refused(alice, json.dumps(document).encode())


def test_a_failure_while_storing_rolls_everything_back(alice, monkeypatch):
    from diary.services import audit

    def broken(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(audit, "record_event", broken)
    with pytest.raises(RuntimeError):
        transfer.import_entries(alice, transfer.read_file(json.dumps(a_diary_file()).encode()))
    db.session.rollback()
    assert entries_of(alice.id) == []


# --- Duplicates, permissions, the audit event ----------------------------------------


def test_duplicates_of_existing_entries_and_within_the_file_are_skipped(alice):
    document = a_diary_file(3)
    add(alice, "day 1", datetime(2025, 1, 2, tzinfo=UTC))  # same time and text: a duplicate
    add(alice, "day 2, edited", datetime(2025, 1, 3, tzinfo=UTC))  # same time, other text
    document["entries"].append(dict(document["entries"][0]))  # twice in the file
    report = transfer.import_entries(alice, transfer.read_file(json.dumps(document).encode()))
    assert (report.imported, report.duplicates) == (2, 2)
    assert sorted(e.content for e in entries_of(alice.id)) == [
        "day 0", "day 1", "day 2", "day 2, edited",
    ]


def test_import_needs_entry_create_and_stores_nothing_without_it(ctx, alice):
    from diary import permissions
    from diary.services.credentials import Identity

    reader = Identity(alice.user, alice.kind, alice.strength,
                      alice.permissions - {permissions.ENTRY_CREATE})
    found = transfer.read_file(json.dumps(a_diary_file()).encode())
    with pytest.raises(EntryAccessDenied):
        transfer.import_entries(reader, found)
    assert entries_of(alice.id) == []


def test_import_is_recorded_with_what_it_did(alice):
    transfer.import_entries(alice, transfer.read_file(DAY_ONE.read_bytes()), ip="192.0.2.9",
                            user_agent="tests")
    [event] = events(AuditTag.ENTRIES_IMPORTED)
    assert event.user_id == alice.id and event.ip == "192.0.2.9"
    assert event.details == {"source": "Day One export", "imported": 3, "duplicates": 0,
                             "empty": 1, "via": "web"}


# --- Uploads waiting for confirmation ------------------------------------------------


def test_a_pending_upload_is_private_kept_and_expires(tmp_path):
    name = transfer.save_pending(str(tmp_path), b"{}", max_age=60)
    path = tmp_path / "imports" / name
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "imports").stat().st_mode & 0o777) == "0o700"
    assert transfer.load_pending(str(tmp_path), name, max_age=60) == b"{}"
    assert transfer.load_pending(str(tmp_path), "../" + name, max_age=60) is None
    old = time.time() - 120
    os.utime(path, (old, old))
    assert transfer.load_pending(str(tmp_path), name, max_age=60) is None
    assert not path.exists()


def test_saving_an_upload_sweeps_expired_ones(tmp_path):
    stale = transfer.save_pending(str(tmp_path), b"old", max_age=60)
    old = time.time() - 120
    os.utime(tmp_path / "imports" / stale, (old, old))
    fresh = transfer.save_pending(str(tmp_path), b"new", max_age=60)
    assert os.listdir(tmp_path / "imports") == [fresh]
