"""diary.pipeline: every request hook in one written order, and the table of which
endpoints take which credentials."""

from __future__ import annotations

import pytest
from flask import Flask

from diary import pipeline
from diary.services.credentials import Kind

BEFORE = [
    "diary.logs:start_request",
    "flask_talisman.talisman:Talisman._force_https",
    "diary.security.body_limit:limit_body",
    "diary.api:answer_unrouted_api_request",
    "diary.database:autocommit_reads",
    "flask_wtf.csrf:CSRFProtect.init_app.<locals>.csrf_protect",
    "diary.pipeline:identify",
    "flask_principal:Principal._on_before_request",
    "flask_limiter._extension:Limiter._check_request_limit",
    "diary.security.ratelimits:check_limits",
    "diary.security.mfa_guards:limit_second_factor",
    "diary.security.mfa_guards:require_rp_host",
    "diary.security.mfa_guards:show_codes_once",
    "diary.security.wiring:drop_offsite_next",
    "diary.security.links:pin_external_urls",
    "diary.security.link_pages:ask_before_acting",
    "flask_talisman.talisman:Talisman._make_nonce",
]
AFTER = [
    "diary.security.enumeration:even_out",
    "diary.security.identity:write_remember_cookie",
    "diary.security.headers:no_store_when_private",
    "diary.security.mfa_guards:no_store_secrets",
    "flask_talisman.talisman:Talisman._set_response_headers",
    "flask_limiter._extension:Limiter.__inject_headers",
    "flask_login.login_manager:LoginManager._update_remember_cookie",
    "diary.logs:log_request",
]


def test_the_hooks_run_in_the_written_order(app):
    assert pipeline.hook_names(app) == {"before_request": BEFORE, "after_request": AFTER}


def test_the_body_limit_and_the_identity_come_before_anything_reads_a_body(app):
    names = pipeline.hook_names(app)["before_request"]
    # Flask-WTF reads the form, Flask-Principal asks for the user: both after.
    assert names.index("diary.security.body_limit:limit_body") < names.index(
        "flask_wtf.csrf:CSRFProtect.init_app.<locals>.csrf_protect"
    )
    assert names.index("diary.pipeline:identify") < names.index(
        "flask_principal:Principal._on_before_request"
    )


def test_an_unlisted_hook_stops_the_app(app):
    def sneaky():
        return None

    app.before_request_funcs[None].append(sneaky)
    with pytest.raises(RuntimeError, match="not in diary.pipeline"):
        pipeline.install(app)


def test_a_listed_extension_hook_that_is_missing_stops_the_app(app):
    app.before_request_funcs[None] = [
        f for f in app.before_request_funcs[None]
        if pipeline.hook_name(f) != "flask_principal:Principal._on_before_request"
    ]
    with pytest.raises(RuntimeError, match="not registered"):
        pipeline.install(app)


@pytest.mark.parametrize(
    "endpoint, blueprint, kinds",
    [
        ("web.dashboard", "web", {Kind.SESSION, Kind.REMEMBER_ME}),
        ("security.login", "security", {Kind.SESSION, Kind.REMEMBER_ME}),
        ("api_docs.docs_page", "api_docs", {Kind.SESSION, Kind.REMEMBER_ME}),
        ("admin.user_action", "admin", {Kind.SESSION, Kind.REMEMBER_ME}),
        ("api_v1.me", "api_v1", {Kind.SESSION, Kind.AUTH_TOKEN, Kind.PERSONAL_ACCESS_TOKEN}),
        ("security.refresh_token", "security", {Kind.REFRESH_TOKEN}),
        ("static", None, set()),
    ],
)
def test_which_endpoints_take_which_credentials(app, endpoint, blueprint, kinds):
    with app.test_request_context("/"):
        assert pipeline.credentials_for(endpoint, blueprint) == kinds


def test_no_page_takes_a_token(app):
    tokens = {Kind.AUTH_TOKEN, Kind.PERSONAL_ACCESS_TOKEN, Kind.REFRESH_TOKEN}
    with app.test_request_context("/"):
        for rule in app.url_map.iter_rules():
            blueprint = rule.endpoint.rpartition(".")[0] or None
            taken = pipeline.credentials_for(rule.endpoint, blueprint)
            if blueprint == "api_v1" or rule.endpoint == "security.refresh_token":
                continue
            assert not (taken & tokens), rule.endpoint


def test_install_on_a_bare_app_names_what_is_missing():
    with pytest.raises(RuntimeError, match="not registered"):
        pipeline.install(Flask("bare"))
