"""The required-roles policy and the factor overview."""

from __future__ import annotations

from datetime import datetime, timezone

from diary import permissions
from diary.extensions import db, security
from diary.models import User
from diary.services import mfa


def user_by_email(email):
    return db.session.scalar(db.select(User).where(User.email == email))


def test_elevated_permissions_are_beyond_the_default_role(app, demo_users):
    with app.test_request_context("/"):
        admin = user_by_email("admin@example.com")
        assert mfa.elevated_permissions(admin) == set(
            permissions.ROLE_PERMISSIONS["Admin"]
        ) - set(permissions.ROLE_PERMISSIONS["Writer"])
        app.config["MFA_REQUIRED_ROLES"] = []
        assert mfa.elevated_permissions(admin) == set()


def test_requiring_the_default_role_withholds_everything(app, demo_users):
    app.config["MFA_REQUIRED_ROLES"] = ["Writer"]
    with app.test_request_context("/"):
        writer = user_by_email("writer@example.com")
        assert mfa.withheld_permissions(writer) == set(permissions.ROLE_PERMISSIONS["Writer"])
        assert not writer.has_permission("entry:create")
        admin = user_by_email("admin@example.com")  # not in a required role
        assert mfa.withheld_permissions(admin) == frozenset()


def test_other_roles_keep_their_permissions(app, demo_users):
    with app.test_request_context("/"):
        moderator = security.datastore.create_role(
            name="Moderator", permissions=["entry:edit-any"]
        )
        admin = user_by_email("admin@example.com")
        security.datastore.add_role_to_user(admin, moderator)
        db.session.commit()
        withheld = mfa.withheld_permissions(admin)
        assert "entry:edit-any" not in withheld and "entry:read-any" in withheld


def test_admin_without_second_factor_is_withheld_elevated_permissions(app, demo_users):
    with app.test_request_context("/"):
        admin = user_by_email("admin@example.com")
        assert mfa.needs_second_factor(admin)
        assert "entry:read-any" in mfa.withheld_permissions(admin)
        assert not admin.has_permission("entry:read-any")
        assert admin.has_permission("entry:create")
        assert mfa.withheld_roles(admin) == {"Admin"}

        writer = user_by_email("writer@example.com")
        assert not mfa.needs_second_factor(writer)
        assert mfa.withheld_permissions(writer) == frozenset()


def test_second_factor_gives_the_permissions_back(app, demo_users):
    with app.test_request_context("/"):
        admin = user_by_email("admin@example.com")
        secret = security.totp_factory.generate_totp_secret()
        security.datastore.tf_set(admin, "authenticator", secret)
        mfa.forget_policy_cache()
        assert mfa.has_second_factor(admin)
        assert admin.has_permission("entry:read-any")


def test_factor_overview(app, demo_users):
    with app.test_request_context("/"):
        admin = user_by_email("admin@example.com")
        overview = mfa.factor_overview(admin)
        assert overview.method is None and overview.passkeys == []
        assert overview.second_factor_required and not overview.has_second_factor

        security.datastore.tf_set(admin, "email", security.totp_factory.generate_totp_secret())
        admin.tf_totp_last_counter = 60_000_000
        overview = mfa.factor_overview(admin)
        assert overview.method == "email" and overview.method_name == "Email codes"
        assert overview.method_last_used_at == datetime.fromtimestamp(1_800_000_000, timezone.utc)
        assert overview.has_second_factor
