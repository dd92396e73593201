"""The pages' small scripts in a real Chromium, under the strict
Content-Security-Policy Diary serves (scripts from the site only, nothing inline):
the new token's Copy button, the questions before Delete and Revoke, and the entry
form's character counter. Delete asks without script too."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, write_entry

pytestmark = pytest.mark.e2e

WRITER, PASSWORD = "writer@example.com", "writerpass"


def make_token(page, name="phone shortcut") -> str:
    page.goto("/account/tokens")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create token").click()
    return page.get_by_test_id("new-token").input_value()


def test_copy_button_copies_the_new_token_and_says_so(
    context, page, demo_users, script_errors
):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, WRITER, PASSWORD)
    secret = make_token(page)
    assert secret.startswith("diary_pat_")
    copy = page.get_by_role("button", name="Copy", exact=True)
    expect(copy).to_be_visible()
    expect(page.locator("#new-token-status")).to_have_text("")
    copy.click()
    expect(page.locator("#new-token-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    # The page with the token fits the phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert script_errors == []


def test_without_script_there_is_no_copy_button_that_cannot_work(browser, live_server, app, demo_users):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, WRITER, PASSWORD)
        secret = make_token(page)
        assert secret.startswith("diary_pat_")
        expect(page.get_by_role("button", name="Copy", exact=True)).to_be_hidden()
    finally:
        context.close()


def test_revoke_asks_first(page, demo_users, script_errors):
    log_in(page, WRITER, PASSWORD)
    make_token(page, "kept")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.get_by_role("button", name="Revoke kept").click()
    expect(page.get_by_test_id("token-row")).to_have_count(1)
    assert questions == ["Revoke the token “kept”? Scripts and apps that use it stop working at once."]

    page.once("dialog", lambda d: answer(d, True))
    page.get_by_role("button", name="Revoke kept").click()
    expect(page.get_by_text("revoked").first).to_be_visible()
    expect(page.get_by_test_id("token-row")).to_have_count(0)
    assert len(questions) == 2 and script_errors == []


@pytest.mark.parametrize("script", [True, False], ids=["with script", "without script"])
def test_delete_asks_first_and_cancel_keeps_the_entry(
    browser, live_server, app, demo_users, writers_may_edit, script
):
    context = browser.new_context(base_url=live_server, java_script_enabled=script)
    page = context.new_page()
    try:
        log_in(page, WRITER, PASSWORD)
        write_entry(page, "Keep me, then do not.")
        page.goto("/")
        entry = page.locator("article.entry", has_text="Keep me, then do not.")
        entry.get_by_role("link", name="Delete").click()
        expect(page.get_by_role("heading", name="Delete this entry?")).to_be_visible()
        expect(page.get_by_text("This cannot be undone.")).to_be_visible()
        expect(page.get_by_text("Keep me, then do not.")).to_be_visible()
        page.get_by_role("button", name="Cancel").click()
        expect(page.locator(".entry-content")).to_have_text("Keep me, then do not.")

        page.get_by_role("button", name="Delete").click()  # the entry page's
        page.get_by_role("button", name="Delete entry").click()
        expect(page.get_by_text("Entry deleted.")).to_be_visible()
        expect(page.get_by_text("Keep me, then do not.")).to_have_count(0)
    finally:
        context.close()


def test_the_entry_form_counts_the_characters_left(app, page, demo_users, writers_may_edit, script_errors):
    app.config["ENTRY_MAX_LENGTH"] = 50
    log_in(page, WRITER, PASSWORD)
    page.goto("/")
    counter = page.get_by_test_id("char-counter")
    expect(counter).to_have_text("50 of 50 characters left")
    field = page.get_by_label("What happened today?")
    field.press_sequentially("Rain.")
    expect(counter).to_have_text("45 of 50 characters left")
    # The counter is part of the field's description for screen readers.
    described = field.get_attribute("aria-describedby")
    assert counter.get_attribute("id") in described.split()
    field.fill("x" * 60)  # the browser holds it to maxlength
    expect(counter).to_have_text("0 of 50 characters left")
    expect(counter).to_have_class("char-counter char-counter-low")

    field.fill("A day at the sea.")
    page.get_by_role("button", name="Save entry").click()
    page.get_by_role("button", name="Edit").click()
    expect(page.get_by_test_id("char-counter")).to_have_text("33 of 50 characters left")
    assert script_errors == []
