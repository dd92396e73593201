"""Issue 11's journey in a real Chromium, under Diary's strict Content-Security-Policy:
write entries with #tags and Markdown through the form, follow a tag, find one
entry by search, open its month in the archive, download the export, and import
it into a second account, which then has the same entries with the same tags."""

from __future__ import annotations

import json
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails where browsers are required
    expect = None

from tests.e2e.conftest import log_in, sign_out, write_entry
from tests.e2e.test_export_import import download_export, import_export

pytestmark = pytest.mark.e2e

# Oldest first, as the export lists them; each with the tags it should get.
ENTRIES = [
    ("Walked along the *canal* and saw [two herons](https://example.com/herons). #Birds #walks",
     ["birds", "walks"]),
    ("Shopping for the #weekend:\n\n- bread\n- **green** tea", ["weekend"]),
    ("A quiet #sunday by the window, reading.", ["sunday"]),
]

# A form sends a textarea's line breaks as CRLF (the HTML standard's rule); Diary
# keeps them as LF, as they were typed.
AS_WRITTEN = ENTRIES


def exported_entries(path) -> list[tuple[str, list[str]]]:
    """The ``(content, tags)`` of each entry of the JSON export at ``path``, in order."""
    return [(e["content"], e["tags"]) for e in json.loads(path.read_text())["entries"]]


def entry_with(page, text: str):
    """The dashboard's (or archive's) entry whose rendered text holds ``text``."""
    return page.locator("article.entry", has_text=text)


def test_the_issue_journey_write_tag_search_archive_export_and_import(
    page, demo_users, script_errors, tmp_path
):
    log_in(page, "writer@example.com", "writerpass")
    for text, _ in ENTRIES:
        write_entry(page, text)

    # The Markdown is rendered, the link is marked as the writer's, not the site's.
    page.goto("/")
    walk = entry_with(page, "Walked along the")
    expect(walk.locator(".entry-content em")).to_have_text("canal")
    link = walk.get_by_role("link", name="two herons")
    assert link.get_attribute("href") == "https://example.com/herons"
    assert link.get_attribute("rel") == "noopener nofollow"
    shopping = entry_with(page, "Shopping for the")
    expect(shopping.locator(".entry-content li")).to_have_text(["bread", "green tea"])
    expect(shopping.locator(".entry-content strong")).to_have_text("green")

    # A tag is a link to the entries with that tag, whatever case it was written in.
    walk.get_by_role("link", name="#Birds").click()
    expect(page).to_have_url(re.compile(r"/\?tag=birds$"))
    expect(page.get_by_role("heading", name="Your entries tagged #birds")).to_be_visible()
    expect(page.locator("article.entry")).to_have_count(1)
    expect(page.locator(".entry-content")).to_contain_text("Walked along the canal")

    # Search finds the walk by another form of its word, and only it.
    page.get_by_role("link", name="Show all your entries").click()
    page.get_by_label("Search your entries").fill("walking")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=walking$"))
    hits = page.locator("article.entry")
    expect(hits).to_have_count(1)
    expect(hits.locator("mark").first).to_have_text("Walked")

    # The archive has the month they were written in; the month lists all three.
    page.get_by_role("link", name="Archive", exact=True).click()
    months = page.locator(".archive-months a")
    expect(months).to_have_count(1)
    month = months.inner_text()
    months.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(month)
    expect(page.locator("article.entry")).to_have_count(len(ENTRIES))
    expect(entry_with(page, "Walked along the").locator(".entry-content em")).to_have_text("canal")

    # The export holds every entry, word for word, with its tags.
    exported = download_export(page, tmp_path)
    assert exported_entries(exported) == AS_WRITTEN

    # A second account imports it and has the same diary, tags and all.
    sign_out(page)
    log_in(page, "test@me.com", "password")
    import_export(page, exported, len(ENTRIES))
    expect(page.locator("article.entry")).to_have_count(len(ENTRIES))
    expect(entry_with(page, "Walked along the").locator(".entry-content em")).to_have_text("canal")
    entry_with(page, "Shopping for the").get_by_role("link", name="#weekend").click()
    expect(page.get_by_role("heading", name="Your entries tagged #weekend")).to_be_visible()
    expect(page.locator("article.entry")).to_have_count(1)
    expect(page.locator(".entry-content li")).to_have_text(["bread", "green tea"])
    (tmp_path / "second").mkdir()
    again = download_export(page, tmp_path / "second")
    assert exported_entries(again) == AS_WRITTEN
    assert script_errors == []  # no CSP refusal nor script error on any page

