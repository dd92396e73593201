"""The required-roles policy and the factor overview."""

from __future__ import annotations

from datetime import datetime, timezone

from diary import permissions
from diary.extensions import db
from diary.security.core import security
from diary.models import User
from diary.models.types import Strength
from diary.services import credentials, mfa


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
        assert credentials.effective_permissions(writer, Strength.PASSWORD) == frozenset()
        admin = user_by_email("admin@example.com")  # not in a required role
        assert credentials.effective_permissions(admin, Strength.PASSWORD) == set(
            permissions.ROLE_PERMISSIONS["Admin"]
        )


def test_other_roles_keep_their_permissions(app, demo_users):
    with app.test_request_context("/"):
        moderator = security.datastore.create_role(
            name="Moderator", permissions=["entry:edit-any"]
        )
        admin = user_by_email("admin@example.com")
        security.datastore.add_role_to_user(admin, moderator)
        db.session.commit()
        granted = credentials.effective_permissions(admin, Strength.MULTI_FACTOR)
        assert "entry:edit-any" in granted and "entry:read-any" not in granted


def test_admin_without_second_factor_is_withheld_elevated_permissions(app, demo_users):
    with app.test_request_context("/"):
        admin = user_by_email("admin@example.com")
        # Not even a multi-factor credential helps an account with no factor left.
        for strength in Strength:
            granted = credentials.effective_permissions(admin, strength)
            assert "entry:read-any" not in granted and "user:manage" not in granted
            assert "entry:create" in granted
            assert credentials.withheld_roles(admin, strength) == {"Admin"}

        writer = user_by_email("writer@example.com")
        assert credentials.effective_permissions(writer, Strength.PASSWORD) == set(
            permissions.ROLE_PERMISSIONS["Writer"]
        )
        assert credentials.withheld_roles(writer, Strength.PASSWORD) == frozenset()


def test_second_factor_gives_the_permissions_back_to_multi_factor_credentials(app, demo_users):
    with app.test_request_context("/"):
        admin = user_by_email("admin@example.com")
        secret = security.totp_factory.generate_totp_secret()
        security.datastore.tf_set(admin, "authenticator", secret)
        assert mfa.has_second_factor(admin)
        assert "entry:read-any" in credentials.effective_permissions(admin, Strength.MULTI_FACTOR)
        assert credentials.withheld_roles(admin, Strength.MULTI_FACTOR) == frozenset()
        # A credential that did not pass the factor (a token made before it) never does.
        assert "entry:read-any" not in credentials.effective_permissions(admin, Strength.PASSWORD)


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
