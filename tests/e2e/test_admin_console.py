"""The admin console in a real Chromium: every page fits a 390 px phone screen,
and the Admin's journey of the issue (lock with a reason, unlock, grant Writer
entry:edit-own) works through the pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, Entry, Role, User
from tests.e2e.conftest import log_in

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


def test_the_admin_locks_unlocks_and_lets_writers_edit(app, context, demo_users, mfa_policy_off):
    writer_id = demo_users["writer@example.com"]
    with app.app_context():
        entry = Entry(user_id=writer_id, content="tpyo")
        db.session.add(entry)
        db.session.commit()
        entry_id = entry.id
    admin = context.new_page()
    log_in(admin, "admin@example.com", "adminpass")
    admin.get_by_role("link", name="Admin", exact=True).click()
    admin.get_by_label("Email or name").fill("writer@")
    admin.get_by_role("button", name="Search").click()
    admin.get_by_role("link", name="writer@example.com").click()
    admin.get_by_role("link", name="Lock", exact=True).click()
    admin.get_by_label("Reason").fill("Suspicious sign-ins, ticket 7")
    admin.get_by_role("button", name="Lock").click()
    assert "writer@example.com is locked." in admin.content()

    writer_context = context.browser.new_context(base_url=context.pages[0].url.split("/admin")[0])
    writer = writer_context.new_page()
    log_in(writer, "writer@example.com", "writerpass")
    assert "/login" in writer.url  # refused while locked

    admin.get_by_role("link", name="Unlock").click()
    admin.get_by_label("Reason").fill("Owner called, all fine")
    admin.get_by_role("button", name="Unlock").click()
    log_in(writer, "writer@example.com", "writerpass")
    assert "/login" not in writer.url
    response = writer.goto(f"/edit_entry/{entry_id}")
    assert response.status == 403

    admin.get_by_role("link", name="Roles").click()
    admin.get_by_role("link", name="Writer").click()
    admin.get_by_label("Permission").first.select_option("entry:edit-own")
    admin.locator("#grant-reason").fill("Writers may fix their typos")
    admin.get_by_role("button", name="Grant").click()
    assert "entry:edit-own granted to Writer." in admin.content()

    writer.goto(f"/edit_entry/{entry_id}")
    writer.get_by_label("What happened today?").fill("typo fixed")
    writer.get_by_role("button", name="Save changes").click()
    assert writer.get_by_text("typo fixed").is_visible()
    with app.app_context():
        assert db.session.get(Entry, entry_id).content == "typo fixed"
        assert db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.actor_id == demo_users["admin@example.com"])
        ) >= 3
        assert db.session.get(User, writer_id).active
    writer_context.close()
