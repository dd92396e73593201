"""Export and import: a user's whole diary out as a file, and a file's entries in.

**Export** (:func:`export_json`, :func:`export_zip`) streams: the entries are read
in keyset batches of ``EXPORT_BATCH_SIZE`` (oldest first, through the
``(user_id, created_at, id)`` index) and each batch is turned into output before
the next is read, so a diary of any size is never held in memory whole. The JSON
format is documented in ``docs/export.md`` and described by
``docs/export.schema.json``; the zip holds one Markdown file per entry with YAML
front matter. :func:`record_export` writes the audit event.

**Import** reads Diary's own JSON export or a Day One JSON export
(:func:`read_file`), which checks the whole file first and refuses it with the
first problem, named by line and column or by field (``entries[3].created_at``);
:func:`plan_import` says what would be imported and what skipped (duplicates:
the same time and text as an entry the user has, or an earlier one of the file);
:func:`import_entries` stores the new entries and the audit event in one
transaction. An uploaded file waits for its confirmation in the instance folder
(:func:`save_pending` and friends).
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import func, select, tuple_

from diary import permissions
from diary.extensions import db
from diary.models import Entry, User
from diary.models.types import utcnow
from diary.services import audit, credentials
from diary.services.audit import AuditTag
from diary.services.entries import Action, Actor, EntryAccessDenied, is_storable, max_length
from diary.services.tags import parse_tags
from diary.services.tags import sync as sync_tags

FORMAT = "diary-export"
VERSION = 1


class ImportInvalid(Exception):
    """The file cannot be imported; ``str(error)`` says why, naming the line and
    column or the field. Nothing was stored."""


# --- Export -------------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    """Return ``moment`` as the export writes times: ISO 8601 in UTC with
    microseconds and ``Z`` (``2026-05-03T10:15:00.000000Z``), so that an import
    gives back the very same instant."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_may_export(actor: Actor) -> None:
    """:raises EntryAccessDenied: ``actor`` may not read their own entries."""
    if not Action.READ.allowed(actor, actor.id):
        raise EntryAccessDenied("export")


def count_entries(owner_id: int) -> int:
    """Return how many entries ``owner_id`` has."""
    return db.session.scalar(select(func.count()).where(Entry.user_id == owner_id)) or 0


def record_export(actor: Actor, fmt: str, count: int, *, ip=None, user_agent=None) -> None:
    """Record (and commit) that ``actor`` exported their ``count`` entries as ``fmt``."""
    audit.record_event(
        AuditTag.ENTRIES_EXPORTED,
        user=actor.id,
        ip=ip,
        user_agent=user_agent,
        details={"format": fmt, "count": count},
    )


# Each export format: its media type and file extension.
FORMATS = {"json": ("application/json", "json"), "zip": ("application/zip", "zip")}


@dataclass(frozen=True)
class Export:
    """A file to send: its pieces (an iterator that reads the database as it is
    consumed), media type and file name."""

    chunks: Iterator
    mimetype: str
    filename: str


def export(actor: Actor, fmt: str, *, ip: str | None = None, user_agent: str | None = None) -> Export:
    """Record that ``actor`` exports their diary as ``fmt`` ("json" or "zip") and
    return the file, to be streamed.

    :raises EntryAccessDenied: see :func:`check_may_export`; nothing is recorded.
    :raises ValueError: an unknown format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    check_may_export(actor)
    mimetype, extension = FORMATS[fmt]
    record_export(actor, fmt, count_entries(actor.id), ip=ip, user_agent=user_agent)
    chunks = export_zip(actor.id) if fmt == "zip" else export_json(actor.id)
    return Export(chunks, mimetype, f"diary-export-{utcnow():%Y-%m-%d}.{extension}")


def _rows(owner_id: int):
    """Yield ``owner_id``'s entries oldest first as ``(id, created_at, updated_at,
    content)`` rows, one keyset batch at a time."""
    size = int(current_app.config["EXPORT_BATCH_SIZE"])
    query = (
        select(Entry.id, Entry.created_at, Entry.updated_at, Entry.content)
        .where(Entry.user_id == owner_id)
        .order_by(Entry.created_at, Entry.id)
        .limit(size)
    )
    after = None
    while True:
        statement = query if after is None else query.where(
            tuple_(Entry.created_at, Entry.id) > after
        )
        rows = db.session.execute(statement).all()
        yield from rows
        if len(rows) < size:
            return
        after = (rows[-1].created_at, rows[-1].id)


def entry_record(row) -> dict:
    """Return one entry as the JSON export holds it."""
    return {
        "id": row.id,
        "created_at": stamp(row.created_at),
        "updated_at": stamp(row.updated_at),
        "content": row.content,
        "tags": parse_tags(row.content),
    }


def export_json(owner_id: int, exported_at: datetime | None = None) -> Iterator[str]:
    """Yield ``owner_id``'s diary as the JSON export, a piece at a time: the header,
    then one entry per line, oldest first."""
    header = {"format": FORMAT, "version": VERSION, "exported_at": stamp(exported_at or utcnow())}
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "entries": ['
    separator = "\n"
    for row in _rows(owner_id):
        yield separator + json.dumps(entry_record(row), ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


def markdown_file(row) -> tuple[str, str]:
    """Return the name and text of one entry's Markdown file: YAML front matter
    (id, date, updated, tags), then the entry's text."""
    created = row.created_at.astimezone(timezone.utc)
    # Strings are written as JSON strings, which YAML reads as double-quoted scalars.
    front = "\n".join(
        [
            "---",
            f"id: {row.id}",
            f"date: {json.dumps(stamp(row.created_at))}",
            f"updated: {json.dumps(stamp(row.updated_at))}",
            f"tags: {json.dumps(parse_tags(row.content), ensure_ascii=False)}",
            "---",
        ]
    )
    return f"diary/{created:%Y-%m-%d}-{row.id}.md", f"{front}\n{row.content}\n"


class _Sink(io.RawIOBase):
    """A write-only, unseekable file that keeps what was written until drained:
    :mod:`zipfile` then writes each member with a data descriptor, never seeking
    back, and the archive leaves as it is made."""

    def __init__(self):
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def export_zip(owner_id: int) -> Iterator[bytes]:
    """Yield ``owner_id``'s diary as a zip of Markdown files, a piece at a time.

    Only the archive's central directory (a name and a few numbers per entry)
    grows with the diary; the entries' text leaves as it is read.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for row in _rows(owner_id):
            name, text = markdown_file(row)
            created = row.created_at.astimezone(timezone.utc)
            info = zipfile.ZipInfo(name, date_time=created.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
            yield sink.drain()
    yield sink.drain()


# --- Import: reading a file --------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """One entry of an imported file, checked."""

    content: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ImportFile:
    """A file's entries, checked: ``source`` names its format; ``empty`` counts
    Day One entries without text (photos only), which are skipped."""

    source: str
    entries: list[Incoming]
    empty: int = 0


def max_bytes() -> int:
    """Return the largest file accepted (setting ``IMPORT_MAX_BYTES``)."""
    return int(current_app.config["IMPORT_MAX_BYTES"])


def read_file(data: bytes) -> ImportFile:
    """Return the entries of ``data``: a Diary JSON export (version 1) or a Day
    One JSON export.

    :raises ImportInvalid: too large, not UTF-8 JSON, not one of the two formats,
        too many entries, or an entry with a missing or bad field; the message
        names where.
    """
    limit = max_bytes()
    if len(data) > limit:
        raise ImportInvalid(f"The file has more than {limit} bytes, the most an import can have.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportInvalid(
            f"The file is not UTF-8 text (byte {exc.start} cannot be read)."
        ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportInvalid(
            f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except RecursionError:
        raise ImportInvalid("The file is not valid JSON: it is nested too deeply.") from None
    if not isinstance(document, dict):
        raise ImportInvalid("The file is JSON, but not an object: not a Diary or Day One export.")
    if "format" in document:
        return _read_diary(document)
    if "metadata" in document and "entries" in document:
        return _read_day_one(document)
    raise ImportInvalid(
        'Not a Diary export (no "format") nor a Day One JSON export (no "metadata" '
        'and "entries").'
    )


def _entries_list(document: dict) -> list:
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise ImportInvalid('entries: missing, or not a list.')
    limit = int(current_app.config["IMPORT_MAX_ENTRIES"])
    if len(entries) > limit:
        raise ImportInvalid(
            f"entries: the file has {len(entries)} entries; an import can have at most {limit}."
        )
    return entries


def _read_diary(document: dict) -> ImportFile:
    if document.get("format") != FORMAT:
        raise ImportInvalid(f'format: not "{FORMAT}": not a Diary export.')
    version = document.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ImportInvalid(
            f"version: this file is version {json.dumps(version)} of the Diary export "
            f"format; this Diary reads version {VERSION}."
        )
    found = []
    for index, item in enumerate(_entries_list(document)):
        where = f"entries[{index}]"
        if not isinstance(item, dict):
            raise ImportInvalid(f"{where}: not an object.")
        created = _time(item.get("created_at"), f"{where}.created_at")
        updated = _time(item.get("updated_at"), f"{where}.updated_at")
        content = _content(item.get("content"), f"{where}.content")
        found.append(Incoming(content, created, updated))
    return ImportFile("Diary export", found)


def _read_day_one(document: dict) -> ImportFile:
    if not isinstance(document.get("metadata"), dict):
        raise ImportInvalid("metadata: not an object.")
    found, empty = [], 0
    for index, item in enumerate(_entries_list(document)):
        where = f"entries[{index}]"
        if not isinstance(item, dict):
            raise ImportInvalid(f"{where}: not an object.")
        created = _time(item.get("creationDate"), f"{where}.creationDate")
        modified = item.get("modifiedDate")
        updated = created if modified is None else _time(modified, f"{where}.modifiedDate")
        text = item.get("text", "")
        if not isinstance(text, str):
            raise ImportInvalid(f"{where}.text: not a string.")
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ImportInvalid(f"{where}.tags: not a list of strings.")
        if not text.strip():
            empty += 1  # a photo or audio entry: nothing Diary can keep
            continue
        content = _content(_with_tags(text.strip(), tags), f"{where}.text")
        found.append(Incoming(content, created, updated))
    return ImportFile("Day One export", found, empty)


_NOT_TAG = re.compile(r"[^\w-]+")


def _with_tags(text: str, tags: list[str]) -> str:
    """Return ``text`` with a last line of the Day One ``tags`` it does not already
    carry as ``#words`` (spaces in a tag become hyphens), so they become tags."""
    have = set(parse_tags(text))
    extra = []
    for tag in tags:
        word = _NOT_TAG.sub("-", tag.strip()).strip("-").lower()
        if word and word not in have:
            have.add(word)
            extra.append(f"#{word}")
    return f"{text}\n\n{' '.join(extra)}" if extra else text


def _time(value, where: str) -> datetime:
    if not isinstance(value, str):
        raise ImportInvalid(f"{where}: missing, or not a string.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ImportInvalid(f"{where}: not an ISO 8601 time: {value[:40]!r}.") from None
    if moment.tzinfo is None:
        raise ImportInvalid(f"{where}: an ISO 8601 time without a time zone: {value[:40]!r}.")
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise ImportInvalid(f"{where}: outside the calendar in UTC: {value[:40]!r}.") from None


def _content(value, where: str) -> str:
    """The rules of :func:`diary.services.entries.clean_content`, naming the field."""
    if not isinstance(value, str):
        raise ImportInvalid(f"{where}: missing, or not a string.")
    text = value.strip()
    if not is_storable(text):
        raise ImportInvalid(f"{where}: contains a NUL character or an unpaired surrogate.")
    if not text:
        raise ImportInvalid(f"{where}: empty; an entry cannot be empty.")
    limit = max_length()
    if len(text) > limit:
        raise ImportInvalid(
            f"{where}: {len(text)} characters; an entry can be at most {limit}."
        )
    return text


# --- Import: planning and storing ---------------------------------------------------


@dataclass(frozen=True)
class ImportPlan:
    """What importing a file would do for one user."""

    source: str
    new: list[Incoming]
    duplicates: int
    empty: int

    @property
    def first(self) -> datetime | None:
        return min((e.created_at for e in self.new), default=None)

    @property
    def last(self) -> datetime | None:
        return max((e.created_at for e in self.new), default=None)


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    source: str
    imported: int
    duplicates: int
    empty: int


def find_user(email: str) -> User | None:
    """Return the account with address ``email`` (any case), if there is one."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def acting_as(user: User) -> Actor:
    """Return ``user`` as the actor of a command: the permissions of their roles."""
    return credentials.for_user(user)


def check_may_import(actor: Actor) -> None:
    """:raises EntryAccessDenied: ``actor`` may not write entries (``entry:create``)."""
    if not actor.may(permissions.ENTRY_CREATE):
        raise EntryAccessDenied("import")


def plan_import(actor: Actor, found: ImportFile) -> ImportPlan:
    """Return what importing ``found`` would store for ``actor``: every entry but
    the duplicates (same time and text as one of ``actor``'s entries, or as an
    earlier entry of the file).

    :raises EntryAccessDenied: see :func:`check_may_import`.
    """
    check_may_import(actor)
    seen = _existing(actor.id, {e.created_at for e in found.entries})
    new = []
    for entry in found.entries:
        key = (entry.created_at, entry.content)
        if key in seen:
            continue
        seen.add(key)
        new.append(entry)
    return ImportPlan(found.source, new, len(found.entries) - len(new), found.empty)


def _existing(owner_id: int, times: set[datetime]) -> set[tuple[datetime, str]]:
    """Return ``(created_at, content)`` of ``owner_id``'s entries at ``times``."""
    found: set[tuple[datetime, str]] = set()
    ordered = sorted(times)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        rows = db.session.execute(
            select(Entry.created_at, Entry.content).where(
                Entry.user_id == owner_id, Entry.created_at.in_(chunk)
            )
        )
        found.update((created, content) for created, content in rows)
    return found


def import_entries(
    actor: Actor, found: ImportFile, *, ip: str | None = None, user_agent: str | None = None,
    via: str = "web",
) -> ImportReport:
    """Store the new entries of ``found`` as ``actor``'s, with their own times,
    and the audit event, in one transaction; return what was done.

    :raises EntryAccessDenied: see :func:`check_may_import`; nothing is stored.
    """
    plan = plan_import(actor, found)
    report = ImportReport(plan.source, len(plan.new), plan.duplicates, plan.empty)
    try:
        for e in plan.new:
            entry = Entry(
                user_id=actor.id,
                content=e.content,
                created_at=e.created_at,
                updated_at=e.updated_at,
            )
            sync_tags(entry)  # as entries.create_entry does: the tags come from the text
            db.session.add(entry)
        audit.record_event(
            AuditTag.ENTRIES_IMPORTED,
            user=actor.id,
            ip=ip,
            user_agent=user_agent,
            details={
                "source": plan.source,
                "imported": report.imported,
                "duplicates": report.duplicates,
                "empty": report.empty,
                "via": via,
            },
            commit=False,
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


# --- Uploads waiting for their confirmation -----------------------------------------

_PENDING_NAME = re.compile(r"^[A-Za-z0-9_-]{32}$")


def pending_folder(instance_path: str) -> str:
    """Return (creating it, mode 0700) the folder that keeps uploads awaiting
    confirmation."""
    folder = os.path.join(instance_path, "imports")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def save_pending(instance_path: str, data: bytes, max_age: float) -> str:
    """Keep ``data`` (mode 0600) under a new random name and return the name;
    delete uploads older than ``max_age`` seconds on the way."""
    folder = pending_folder(instance_path)
    sweep_pending(instance_path, max_age)
    name = secrets.token_urlsafe(24)
    fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return name


def load_pending(instance_path: str, name: str | None, max_age: float) -> bytes | None:
    """Return the upload kept as ``name``, or None if there is none (unknown,
    malformed name, or older than ``max_age`` seconds: then it is deleted)."""
    if not name or not _PENDING_NAME.match(name):
        return None
    path = os.path.join(pending_folder(instance_path), name)
    try:
        if time.time() - os.path.getmtime(path) > max_age:
            os.remove(path)
            return None
        with open(path, "rb") as kept:
            return kept.read()
    except FileNotFoundError:
        return None


def discard_pending(instance_path: str, name: str | None) -> None:
    """Delete the upload kept as ``name``, if there is one."""
    if name and _PENDING_NAME.match(name):
        try:
            os.remove(os.path.join(pending_folder(instance_path), name))
        except FileNotFoundError:
            pass


def sweep_pending(instance_path: str, max_age: float) -> int:
    """Delete uploads older than ``max_age`` seconds; return how many."""
    folder = pending_folder(instance_path)
    removed = 0
    now = time.time()
    for entry in os.scandir(folder):
        try:
            if entry.is_file() and now - entry.stat().st_mtime > max_age:
                os.remove(entry.path)
                removed += 1
        except FileNotFoundError:
            pass
    return removed
