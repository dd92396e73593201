"""The console's role pages: permissions and members, grant, revoke, create."""

from __future__ import annotations

import sqlalchemy as sa

from diary.extensions import db
from diary.models import Entry, Role
from diary.services.audit import AuditTag
from tests.admin.conftest import events, role_id, submit
from tests.conftest import AuthActions, csrf_token

REASON = "Writers asked to fix their typos"


def test_the_roles_page_lists_permissions_meanings_and_members(app, admin_browser):
    page = admin_browser.get("/admin/roles").get_data(as_text=True)
    table = page.split('data-testid="roles"')[1]
    writer_row = table.split("/admin/roles/")[2]
    assert "entry:create" in writer_row and "entry:edit-own" not in writer_row.split("</tr>")[0]
    assert "<td data-label=\"Members\">2</td>" in table  # two demo writers
    assert "read everybody&#39;s security audit log" in page  # meanings from permissions.py


def _grant(browser, app, role, permission, reason=REASON, change="grant"):
    rid = role_id(app, role)
    return submit(
        browser,
        f"/admin/roles/{rid}/{change}",
        {f"{change}-permission": permission, f"{change}-reason": reason},
        form_page=f"/admin/roles/{rid}",
    )


def _writer_edits(app, browser, entry_id):
    token = csrf_token(browser, "/")
    return browser.post(f"/edit_entry/{entry_id}", data={"content": "fixed", "csrf_token": token})


def test_granting_edit_own_lets_writers_edit_and_revoking_takes_it_away(
    app, admin_browser, demo_users
):
    writer_id = demo_users["writer@example.com"]
    with app.app_context():
        entry = Entry(user_id=writer_id, content="tpyo")
        db.session.add(entry)
        db.session.commit()
        entry_id = entry.id
    writer = app.test_client()
    assert AuthActions(writer).login().status_code == 302
    assert writer.get(f"/edit_entry/{entry_id}").status_code == 403

    response = _grant(admin_browser, app, "Writer", "entry:edit-own")
    assert response.status_code == 302
    assert writer.get(f"/edit_entry/{entry_id}").status_code == 200
    assert _writer_edits(app, writer, entry_id).status_code == 302
    granted = events(app, AuditTag.PERMISSION_GRANTED)[-1]
    assert granted.actor_id == demo_users["admin@example.com"]
    assert granted.details == {"role": "Writer", "permission": "entry:edit-own", "reason": REASON}

    response = _grant(admin_browser, app, "Writer", "entry:edit-own", change="revoke")
    assert response.status_code == 302
    assert writer.get(f"/edit_entry/{entry_id}").status_code == 403
    revoked = events(app, AuditTag.PERMISSION_REVOKED)[-1]
    assert revoked.actor_id == demo_users["admin@example.com"]
    assert revoked.details["reason"] == REASON


def test_a_change_without_a_reason_changes_nothing(app, admin_browser):
    response = _grant(admin_browser, app, "Writer", "entry:edit-own", reason="")
    assert response.status_code == 422
    assert "Give a reason" in response.get_data(as_text=True)
    with app.app_context():
        role = db.session.scalar(sa.select(Role).where(Role.name == "Writer"))
        assert "entry:edit-own" not in role.get_permissions()
    assert events(app, AuditTag.PERMISSION_GRANTED) == []


def test_only_known_permissions_may_be_granted(app, admin_browser):
    response = _grant(admin_browser, app, "Writer", "entry:do-anything")
    assert response.status_code == 422
    # And one the role has is not offered again.
    assert _grant(admin_browser, app, "Writer", "entry:create").status_code == 422


def test_user_manage_cannot_be_taken_from_the_only_role_that_has_it(app, admin_browser):
    response = _grant(admin_browser, app, "Admin", "user:manage", change="revoke")
    assert response.status_code == 409
    assert admin_browser.get("/admin/users").status_code == 200
    assert events(app, AuditTag.PERMISSION_REVOKED) == []


def test_create_a_role_with_a_description(app, admin_browser, demo_users):
    response = submit(admin_browser, "/admin/roles/new",
                      {"name": "Editor", "description": "Fixes typos", "reason": REASON})
    assert response.status_code == 302
    rid = role_id(app, "Editor")
    assert response.headers["Location"] == f"/admin/roles/{rid}"
    with app.app_context():
        role = db.session.get(Role, rid)
        assert role.description == "Fixes typos" and role.get_permissions() == set()
    created = events(app, AuditTag.ROLE_CREATED)[-1]
    assert created.actor_id == demo_users["admin@example.com"]
    assert created.details == {"role": "Editor", "reason": REASON}
    # The name is taken now.
    again = submit(admin_browser, "/admin/roles/new",
                   {"name": "Editor", "description": "", "reason": REASON})
    assert again.status_code == 409


def test_creating_a_role_needs_a_name_and_a_reason(app, admin_browser):
    response = submit(admin_browser, "/admin/roles/new", {"name": "Editor", "reason": ""})
    assert response.status_code == 422
    assert role_id(app, "Editor") is None


def test_a_get_of_a_change_goes_back_to_the_role(app, admin_browser):
    rid = role_id(app, "Writer")
    response = admin_browser.get(f"/admin/roles/{rid}/grant")
    assert response.headers["Location"] == f"/admin/roles/{rid}"
    assert admin_browser.get(f"/admin/roles/{rid}/explode").status_code == 404
    assert admin_browser.get("/admin/roles/9999").status_code == 404
