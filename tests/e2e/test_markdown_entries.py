"""Markdown entries in a real Chromium under Diary's strict Content-Security-Policy:
a formatted entry with #tags written through the form, then every XSS payload of
tests/services/test_markdown.py on the dashboard and on its own page, with images
off and on. No script runs (no dialog opens), the browser reports no error and no
CSP refusal, and a tag link opens the list of entries with that tag."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from diary.extensions import db
from diary.models import User
from diary.services import credentials, entries
from tests.e2e.conftest import log_in, watch_scripts
from tests.services.test_markdown import XSS_PAYLOADS

pytestmark = pytest.mark.e2e

WRITER, PASSWORD = "writer@example.com", "writerpass"
# What the browser built from an entry that could run or load something: none may
# exist, even where the CSP would stop it.
HOSTILE_ELEMENTS = """[...document.querySelectorAll('.entry-content *')].filter(el =>
    ['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'FORM', 'svg'].includes(el.tagName)
    || [...el.attributes].some(a => a.name.startsWith('on') || a.name === 'style')
    || /^\\s*(javascript|vbscript|data):/i.test(el.getAttribute('href') || el.getAttribute('src') || '')
).length"""


@pytest.fixture
def watched(page):
    """Script errors, CSP refusals and dialogs seen by ``page``."""
    seen = {"errors": watch_scripts(page, []), "dialogs": []}

    def dialog(d):
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    return seen


def write_payloads(app) -> list[int]:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == WRITER))
        writer = credentials.for_user(user)
        return [entries.create_entry(writer, payload).id
                for payload in XSS_PAYLOADS if "\x00" not in payload]


def test_markdown_and_payloads_render_under_the_csp(app, page, demo_users, watched):
    app.config["ENTRIES_PER_PAGE"] = 100
    log_in(page, WRITER, PASSWORD)
    page.get_by_label("What happened today?").fill(
        "Saw two *herons* at the **canal**. #Birds\n\n- tea\n- [map](https://example.com/map)"
    )
    page.get_by_role("button", name="Save entry").click()
    entry = page.locator(".entry-content")
    expect(entry.locator("em")).to_have_text("herons")
    expect(entry.locator("li")).to_have_count(2)
    link = entry.get_by_role("link", name="map")
    assert link.get_attribute("rel") == "noopener nofollow"

    ids = write_payloads(app)
    for images in (False, True):
        app.config["MARKDOWN_IMAGES"] = images
        page.goto("/")
        page.wait_for_load_state("load")
        expect(page.locator(".entry-content")).to_have_count(len(ids) + 1)
        assert page.evaluate(HOSTILE_ELEMENTS) == 0
        for entry_id in ids:
            page.goto(f"/entry/{entry_id}")
            page.wait_for_load_state("load")
            assert page.evaluate(HOSTILE_ELEMENTS) == 0, entry_id
    assert watched["dialogs"] == []
    assert watched["errors"] == []

    # A tag is a link to the entries with that tag.
    page.goto("/")
    page.get_by_role("link", name="#Birds").click()
    expect(page).to_have_url(f"{app.config['BASE_URL']}/?tag=birds")
    expect(page.get_by_role("heading", name="Your entries tagged #birds")).to_be_visible()
    expect(page.locator(".entry-content")).to_have_count(1)
    assert watched["errors"] == []
