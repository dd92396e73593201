"""Export a diary from one account and import it into another, in Chromium."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails where browsers are required
    expect = None

from tests.e2e.conftest import log_in, watch_scripts, write_entry

pytestmark = pytest.mark.e2e


def download_export(page, folder: Path) -> Path:
    """Download the JSON export from the account page into ``folder``; return the file."""
    page.goto("/account")
    page.get_by_role("button", name="Export my entries…").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename.startswith("diary-export-")
    exported = folder / download.suggested_filename
    download.save_as(exported)
    return exported


def import_export(page, exported: Path, count: int) -> None:
    """Import ``exported`` from the account page: check the file, see the preview
    announce ``count`` entries, confirm, and see the report."""
    page.goto("/account")
    page.get_by_role("button", name="Import entries…").click()
    page.get_by_label("File to import").set_input_files(str(exported))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text(
        f"This Diary export holds {count} entries to import"
    )
    page.get_by_role("button", name="Import these entries").click()
    expect(page.get_by_text(f"Imported {count} entries from the Diary export.")).to_be_visible()


def test_download_the_export_and_import_it_into_a_second_account(page, browser, live_server, demo_users, tmp_path):
    errors = watch_scripts(page, [])
    log_in(page, "writer@example.com", "writerpass")
    for text in ("Herons on the #canal", "A quiet #sunday with tea"):
        write_entry(page, text)

    exported = download_export(page, tmp_path)
    document = json.loads(exported.read_text())
    assert [e["tags"] for e in document["entries"]] == [["canal"], ["sunday"]]

    page.get_by_label("Markdown files in a zip").check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    archive = zipfile.ZipFile(io.BytesIO(open(info.value.path(), "rb").read()))
    assert len(archive.namelist()) == 2

    # A second account, in a browser profile of its own.
    other = browser.new_context(base_url=live_server)
    second = other.new_page()
    watch_scripts(second, errors)
    log_in(second, "test@me.com", "password")
    import_export(second, exported, 2)
    expect(second.get_by_text("Herons on the #canal")).to_be_visible()
    expect(second.get_by_text("A quiet #sunday with tea")).to_be_visible()
    other.close()
    assert errors == []  # no CSP violation nor script error on any of these pages
