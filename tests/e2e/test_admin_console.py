"""The admin console in a real Chromium: every page fits a 390 px phone screen,
and the Admin's journey of the issue (lock with a reason, unlock, grant Writer
entry:edit-own) works through the pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, Entry, Role, User
from tests.e2e.conftest import log_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails where browsers are required
    expect = None

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
LONG_EMAIL = "a.very.long.address.that.goes.on.and.on.and.on@subdomain.example.com"


# The elements wider than the screen, to say what overflows when one does.
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
  .slice(0, 8)"""


def fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
    )


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport=PHONE)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_every_admin_page_fits_a_phone(app, phone, demo_users, make_user, mfa_policy_off):
    long_id = make_user(LONG_EMAIL)
    with app.app_context():
        for i in range(3):
            db.session.add(AuditEvent(
                tag="account:login:failure", user_id=long_id, ip="2001:db8:85a3::8a2e:370:7334",
                user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 " * 3,
                details={"method": "password", "reason": "x" * 120},
            ))
        db.session.commit()
        writer_role = db.session.scalar(sa.select(Role.id).where(Role.name == "Writer"))
    log_in(phone, "admin@example.com", "adminpass")
    pages = [
        "/admin/users", f"/admin/users/{long_id}", "/admin/roles",
        f"/admin/roles/{writer_role}", "/admin/roles/new", "/admin/audit",
        *(f"/admin/users/{long_id}/{a}" for a in ("lock", "add-role", "reset-two-factor")),
    ]
    for path in pages:
        phone.goto(path)
        assert phone.url.endswith(path), phone.url
        assert fits(phone), (path, phone.evaluate(WIDEST))


def test_the_issue_journey_lock_unlock_grant_and_the_writers_receipt(
    app, browser, live_server, demo_users, totp_clock
):
    """Issue 10's journey, with the Admin signed in with a real second factor:
    lock a writer with a reason (their next sign-in fails), unlock them, grant
    Writer entry:edit-own (the writer can now edit), read the writer's entry with
    a reason, and the writer sees that access, with the reason, in their activity.
    """
    from diary.security.core import security
    from tests.e2e.test_tutorial_journeys import give_authenticator

    writer_id = demo_users["writer@example.com"]
    with app.app_context():
        entry = Entry(user_id=writer_id, content="tpyo")
        db.session.add(entry)
        db.session.commit()
        entry_id = entry.id
    secret = give_authenticator(app, "admin@example.com")

    admin_context = browser.new_context(base_url=live_server)
    writer_context = browser.new_context(base_url=live_server)
    try:
        for context in (admin_context, writer_context):
            context.set_default_timeout(10_000)
        admin = admin_context.new_page()
        log_in(admin, "admin@example.com", "adminpass")
        assert "/tf-validate" in admin.url
        with app.app_context():
            admin.locator("input[name=code]").fill(security.totp_factory.generate_totp_password(secret))
        admin.locator("input[type=submit], button[type=submit]").first.click()
        admin.wait_for_load_state()

        # Lock, with a reason.
        admin.get_by_role("link", name="Admin", exact=True).click()
        admin.get_by_label("Email or name").fill("writer@")
        admin.get_by_role("button", name="Search").click()
        admin.get_by_role("link", name="writer@example.com").click()
        admin.get_by_role("link", name="Lock", exact=True).click()
        admin.get_by_label("Reason").fill("Suspicious sign-ins, ticket 7")
        admin.get_by_role("button", name="Lock").click()
        expect(admin.get_by_text("writer@example.com is locked.")).to_be_visible()

        # The writer's next sign-in fails, in plain words.
        writer = writer_context.new_page()
        log_in(writer, "writer@example.com", "writerpass")
        assert "/login" in writer.url
        expect(writer.get_by_text("don't match an account we can sign you in to")).to_be_visible()

        # Unlocked, the writer signs in, but may not edit their own entry yet.
        admin.get_by_role("link", name="Unlock").click()
        admin.get_by_label("Reason").fill("Owner called, all fine")
        admin.get_by_role("button", name="Unlock").click()
        expect(admin.get_by_text("writer@example.com is unlocked.")).to_be_visible()
        log_in(writer, "writer@example.com", "writerpass")
        assert "/login" not in writer.url
        writer.goto("/")
        expect(writer.locator("article.entry", has_text="tpyo").get_by_role("link", name="Edit")).to_have_count(0)
        assert writer.goto(f"/edit_entry/{entry_id}").status == 403

        # Grant Writer entry:edit-own: the writer can now edit.
        admin.get_by_role("link", name="Roles").click()
        admin.get_by_role("link", name="Writer").click()
        admin.get_by_label("Permission").first.select_option("entry:edit-own")
        admin.locator("#grant-reason").fill("Writers may fix their typos")
        admin.get_by_role("button", name="Grant").click()
        expect(admin.get_by_text("entry:edit-own granted to Writer.")).to_be_visible()
        writer.goto("/")
        writer.locator("article.entry", has_text="tpyo").get_by_role("link", name="Edit").click()
        writer.get_by_label("What happened today?").fill("typo fixed")
        writer.get_by_role("button", name="Save changes").click()
        expect(writer.get_by_text("Entry updated.")).to_be_visible()

        # The Admin opens the writer's entry, which asks for a reason first.
        admin.get_by_role("link", name="Everyone's entries").click()
        admin.locator("article.entry", has_text="writer@example.com").get_by_role("link", name="Open").click()
        admin.get_by_label("Why do you need this entry?").fill("Checking the typo report")
        admin.get_by_role("button", name="Open entry").click()
        expect(admin.locator(".entry-content")).to_have_text("typo fixed")

        # The writer sees who read it and why, and what the Admin did to the account.
        writer.goto("/account/activity")
        activity = writer.locator("table.activity")
        expect(activity).to_contain_text(
            "admin@example.com read your entry of"
        )
        expect(activity).to_contain_text("(reason: Checking the typo report)")
        expect(activity).to_contain_text("by admin@example.com (reason: Suspicious sign-ins, ticket 7)")
    finally:
        admin_context.close()
        writer_context.close()
    with app.app_context():
        assert db.session.get(Entry, entry_id).content == "typo fixed"
        assert db.session.get(User, writer_id).active
