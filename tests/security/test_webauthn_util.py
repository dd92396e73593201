"""DiaryWebauthnUtil: the relying party comes from BASE_URL; any authenticator
attachment; user verification for passkeys that sign in alone."""

from __future__ import annotations

from webauthn.helpers.structs import ResidentKeyRequirement, UserVerificationRequirement

from diary.security.core import security
from diary.security.webauthn_util import rp_id, rp_origin


def test_rp_id_and_origin_come_from_base_url_not_the_host_header(app):
    app.config["BASE_URL"] = "https://diary.example.org:8443/"
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert rp_id() == "diary.example.org"
        assert rp_origin() == "https://diary.example.org:8443"
        assert security.webauthn_util.origin() == "https://diary.example.org:8443"
        options = security.webauthn_util.registration_options(None, "first", {})
        assert options["rp_id"] == "diary.example.org"
        assert security.webauthn_util.authentication_options(None, ["first"], {})[
            "rp_id"
        ] == "diary.example.org"


def test_sign_in_passkeys_may_be_platform_or_roaming_and_must_verify_the_user(app):
    with app.test_request_context("/"):
        first = security.webauthn_util.authenticator_selection(None, "first")
        assert first.authenticator_attachment is None
        assert first.resident_key == ResidentKeyRequirement.REQUIRED
        assert first.user_verification == UserVerificationRequirement.REQUIRED
        second = security.webauthn_util.authenticator_selection(None, "secondary")
        assert second.authenticator_attachment is None
        assert second.user_verification == UserVerificationRequirement.DISCOURAGED
        assert (
            security.webauthn_util.user_verification(None, ["first"])
            == UserVerificationRequirement.REQUIRED
        )
        assert (
            security.webauthn_util.user_verification(None, ["secondary"])
            == UserVerificationRequirement.DISCOURAGED
        )
