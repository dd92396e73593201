"""diary.services.admin: the rules of the console, called directly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import User
from diary.services import admin, lockout
from diary.services.admin import Action, Who


@pytest.fixture
def ctx(app, demo_users):
    with app.test_request_context():
        yield {email: db.session.get(User, uid) for email, uid in demo_users.items()}


def test_search_is_one_function_over_email_and_name(ctx):
    found = admin.search_users(admin.UserQuery(text="test user"))
    assert [row.user.email for row in found.rows] == ["test@me.com"]
    found = admin.search_users(admin.UserQuery(text="EXAMPLE.COM"))
    assert [row.user.email for row in found.rows] == ["admin@example.com", "writer@example.com"]
    assert admin.search_users(admin.UserQuery(text="_")).total == 0  # a wildcard, searched for


@pytest.mark.parametrize("reason", ["", "  ", "two\nlines", "x" * 201])
def test_a_reason_is_one_line_of_some_words(ctx, reason):
    who = Who(ctx["admin@example.com"])
    with pytest.raises(admin.Invalid):
        admin.perform(Action.LOCK, ctx["writer@example.com"].id, who, reason)
    assert not lockout.is_locked(ctx["writer@example.com"])


def test_the_last_admin_guard_counts_only_active_unlocked_admins(ctx):
    me, writer = ctx["admin@example.com"], ctx["writer@example.com"]
    from diary.extensions import datastore

    datastore().add_role_to_user(writer, "Admin")
    db.session.commit()
    who = Who(me)
    # Another Admin exists, but locked: it does not count.
    admin.perform(Action.LOCK, writer.id, who, "away")
    with pytest.raises(admin.LastAdmin):
        admin.perform(Action.DEACTIVATE, me.id, who, "leaving")
    admin.perform(Action.UNLOCK, writer.id, who, "back")
    admin.perform(Action.DEACTIVATE, me.id, Who(writer), "leaving")
    assert not db.session.get(User, me.id).active
    # The one left cannot go.
    with pytest.raises(admin.LastAdmin):
        admin.perform(Action.REMOVE_ROLE, writer.id, Who(writer), "bye", role="Admin")


def test_an_admin_lock_outlasts_a_password_reset(ctx):
    writer = ctx["writer@example.com"]
    admin.perform(Action.LOCK, writer.id, Who(ctx["admin@example.com"]), "fraud")
    assert lockout.held_by_admin(writer)
    assert lockout.unlock(writer, reason="password_reset", lift_admin_lock=False) is False
    assert lockout.is_locked(writer)
    # A failed guess meanwhile changes nothing either.
    lockout.record_failure(writer, method="password")
    assert lockout.held_by_admin(writer)


def test_revoking_user_manage_is_fine_while_another_role_grants_it(ctx):
    from diary.extensions import datastore

    who = Who(ctx["admin@example.com"])
    role = admin.create_role("Helpdesk", "Helps", who, "more hands")
    admin.grant_permission(role.id, "user:manage", who, "they manage")
    datastore().add_role_to_user(ctx["writer@example.com"], role)
    db.session.commit()
    admin_role = datastore().find_role("Admin")
    admin.revoke_permission(admin_role.id, "user:manage", who, "helpdesk does it")
    assert "user:manage" not in admin_role.get_permissions()
    with pytest.raises(admin.LastAdmin):
        admin.revoke_permission(role.id, "user:manage", who, "nobody then")


def test_role_names_are_checked(ctx):
    who = Who(ctx["admin@example.com"])
    with pytest.raises(admin.Invalid):
        admin.create_role("  ", "", who, "why")
    with pytest.raises(admin.Unchanged):
        admin.create_role("Writer", "", who, "why")
    with pytest.raises(admin.Invalid):
        admin.grant_permission(admin.list_roles()[0].role.id, "root", who, "why")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3
