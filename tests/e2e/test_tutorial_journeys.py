"""The tutorial's journeys, clicked through in a real Chromium."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails where browsers are required
    expect = None

from tests.conftest import mail_link, sent_mails
from tests.e2e.conftest import log_in


def test_test_user_logs_in_and_sees_greeting(page, demo_users):
    page.goto("/")
    assert "/login" in page.url  # anonymous visitors are sent to log in
    log_in(page, "test@me.com", "password")
    assert page.get_by_role("heading", name="Hello, Test User").is_visible()


def writers_entry(app, make_user, content="Alice's private thoughts"):
    """Alice (a writer) has written one entry; return its id. Bob is another writer."""
    from diary.extensions import db
    from diary.models import User
    from diary.services import entries

    alice = make_user("alice@example.com", "alice-password")
    make_user("bob@example.com", "bob-password")
    with app.app_context():
        from diary.services import credentials

        return entries.create_entry(credentials.for_user(db.session.get(User, alice)), content).id


def test_register_write_an_entry_and_open_it(page, app):
    page.goto("/")
    page.get_by_role("link", name="Register").click()
    page.get_by_label("Email address").fill("newcomer@example.org")
    page.get_by_label("Password", exact=True).fill("a long and happy passphrase")
    page.get_by_label("Confirm password").fill("a long and happy passphrase")
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state()

    # The address is confirmed through the link in the welcome mail first.
    [welcome] = sent_mails(app)
    page.goto(mail_link(welcome, "/confirm/"))
    page.get_by_role("button", name="Confirm your email address").click()
    page.wait_for_load_state()
    log_in(page, "newcomer@example.org", "a long and happy passphrase")

    expect(page.get_by_role("heading", name="Hello, newcomer@example.org")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_contain_text("Writer")
    page.get_by_label("What happened today?").fill("Registered, and wrote my first entry.")
    page.get_by_role("button", name="Save entry").click()
    expect(page.get_by_text("Entry saved.")).to_be_visible()

    page.get_by_role("link", name="My diary", exact=True).click()
    entry = page.locator("article.entry", has_text="Registered, and wrote my first entry.")
    entry.get_by_role("link", name="Open").click()
    expect(page).to_have_url(re.compile(r"/entry/\d+$"))
    expect(page.locator(".entry-content")).to_have_text("Registered, and wrote my first entry.")
    expect(page.locator("time")).to_have_text("just now")


def test_writer_opening_another_writers_entry_sees_the_403_page(page, app, make_user):
    entry_id = writers_entry(app, make_user)
    log_in(page, "bob@example.com", "bob-password")
    response = page.goto(f"/entry/{entry_id}")
    assert response.status == 403
    expect(page.get_by_role("heading", name="This page is not yours to see")).to_be_visible()
    assert "Alice's private thoughts" not in page.content()
    page.get_by_role("link", name="Go to my diary").click()
    expect(page.get_by_role("heading", name="Hello, bob@example.com")).to_be_visible()


def give_authenticator(app, email: str) -> str:
    """Switch on an authenticator app for ``email`` (as /tf-setup would); return
    the stored secret to make codes with."""
    from diary.extensions import db
    from diary.security.core import security

    with app.app_context():
        user = security.datastore.find_user(email=email)
        secret = security.totp_factory.generate_totp_secret()
        security.datastore.tf_set(user, "authenticator", totp_secret=secret)
        db.session.commit()
        return secret


def test_admin_edits_then_deletes_a_writers_entry(page, app, make_user, demo_users, totp_clock):
    writers_entry(app, make_user, "Needs a moderator's touch")
    # Admins must have a second factor before they use their extra rights
    # (MFA_REQUIRED_ROLES); this one set up an authenticator app earlier.
    secret = give_authenticator(app, "admin@example.com")
    log_in(page, "admin@example.com", "adminpass")
    assert "/tf-validate" in page.url
    with app.app_context():
        from diary.security.core import security

        code = security.totp_factory.generate_totp_password(secret)
    page.locator("input[name=code]").fill(code)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_load_state()

    page.get_by_role("link", name="Everyone's entries").click()
    # Somebody else's entry is listed by writer and date; its text is not shown.
    entry = page.locator("article.entry", has_text="alice@example.com")
    expect(entry).not_to_contain_text("Needs a moderator's touch")
    entry.get_by_role("link", name="Edit").click()
    # The editor opens only for a reason, which Alice will see.
    expect(page.get_by_role("heading", name="Why do you need to edit this entry?")).to_be_visible()
    page.get_by_label("Why do you need this entry?").fill("Reported as spam")
    page.get_by_role("button", name="Open editor").click()
    expect(page.get_by_text("Written by alice@example.com")).to_be_visible()
    page.get_by_label("What happened today?").fill("Moderated by the admin.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Entry updated.")).to_be_visible()

    page.locator("article.entry", has_text="alice@example.com").get_by_role("link", name="Open").click()
    page.get_by_label("Why do you need this entry?").fill("Checking the edit")
    page.get_by_role("button", name="Open entry").click()
    expect(page.locator(".entry-content")).to_have_text("Moderated by the admin.")

    # The reason the entry was opened for goes along with Delete.
    expect(page.get_by_label("Why are you deleting this entry?")).to_have_value("Checking the edit")
    page.get_by_label("Why are you deleting this entry?").fill("Spam")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Entry deleted.")).to_be_visible()
    assert questions == ["Delete this entry? This cannot be undone."]
    page.get_by_role("link", name="Everyone's entries").click()
    expect(page.get_by_text("Nobody has written anything yet.")).to_be_visible()

    # Alice sees who opened, edited and deleted her entry, and why.
    page.get_by_role("button", name="Sign out", exact=True).click()
    log_in(page, "alice@example.com", "alice-password")
    page.goto("/account/activity")
    for line in ("read your entry of", "(reason: Reported as spam)", "edited your entry of",
                 "(reason: Checking the edit)", "deleted your entry of", "(reason: Spam)"):
        expect(page.locator("table.activity")).to_contain_text(line)
    expect(page.locator("table.activity")).to_contain_text("admin@example.com")

    from diary.extensions import db
    from diary.models import Entry

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Entry)) == 0
