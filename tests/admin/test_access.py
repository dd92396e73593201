"""Who may open the admin console: ``user:manage`` (and ``audit:read`` for the log),
with the Admin role's two-factor rule. Everybody else gets 403 on every URL."""

from __future__ import annotations

from diary.services.admin import Action
from tests.admin.conftest import events, role_id
from tests.conftest import AuthActions, csrf_token


def admin_urls(app, user_id, writer_role):
    """Every URL of the admin blueprint, with the methods it answers."""
    values = {"user_id": user_id, "role_id": writer_role}
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        if "action_name" in rule.arguments:
            variants = [{"action_name": str(a)} for a in Action]
        elif "change" in rule.arguments:
            variants = [{"change": "grant"}, {"change": "revoke"}]
        else:
            variants = [{}]
        for extra in variants:
            path = rule.build({**values, **extra}, append_unknown=False)[1]
            found.extend((method, path) for method in methods)
    return found


def test_the_console_has_the_urls_this_test_walks(app, demo_users):
    urls = admin_urls(app, 1, 1)
    assert ("GET", "/admin/users") in urls
    assert ("POST", "/admin/users/1/lock") in urls
    assert ("POST", "/admin/roles/1/grant") in urls
    assert ("GET", "/admin/audit.jsonl") in urls
    assert len(urls) >= 30


def test_a_writer_gets_403_on_every_admin_url_and_action(app, writer_browser, demo_users):
    before = len(events(app))
    token = csrf_token(writer_browser, "/account/tokens")
    writer = demo_users["writer@example.com"]
    for method, path in admin_urls(app, writer, role_id(app, "Writer")):
        data = {"csrf_token": token, "reason": "just because", "role": "Admin",
                "grant-permission": "user:manage", "grant-reason": "x",
                "revoke-permission": "entry:create", "revoke-reason": "x",
                "name": "Sneaky", "grant-csrf_token": token, "revoke-csrf_token": token}
        response = writer_browser.open(path, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, (method, path, response.status_code)
    # Nothing was done: no event but the writer's own sign-in.
    assert len(events(app)) == before


def test_anonymous_visitors_are_sent_to_sign_in(client, demo_users):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_only_those_who_may_see_the_admin_link(app, admin_browser, writer_browser):
    assert 'href="/admin/"' in admin_browser.get("/").get_data(as_text=True)
    assert 'href="/admin/"' not in writer_browser.get("/").get_data(as_text=True)


def test_an_admin_without_a_second_factor_is_sent_to_set_one_up(app, client, demo_users):
    # The two-factor rule of the Admin role is on (the default).
    assert AuthActions(client).login("admin@example.com", "adminpass").status_code == 302
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/tf-setup")
    assert 'href="/admin/"' not in client.get("/").get_data(as_text=True)


def test_the_index_sends_managers_to_the_users(admin_browser):
    response = admin_browser.get("/admin/")
    assert response.headers["Location"] == "/admin/users"


def test_audit_read_alone_opens_the_log_only(app, client, make_user, mfa_policy_off):
    from diary.extensions import db
    from diary.security.core import security

    with app.app_context():
        auditor = security.datastore.create_role(name="Auditor", permissions=["audit:read"])
        db.session.commit()
    make_user("auditor@example.com", role="Auditor")
    assert AuthActions(client).login("auditor@example.com", "a-long-password").status_code == 302
    assert client.get("/admin/").headers["Location"] == "/admin/audit"
    assert client.get("/admin/audit").status_code == 200
    assert client.get("/admin/users").status_code == 403
    assert auditor is not None


def test_an_admin_with_a_second_factor_opens_the_console(app, client, demo_users, totp_clock):
    from tests.support.mfa_flows import setup_totp

    assert AuthActions(client).login("admin@example.com", "adminpass").status_code == 302
    assert client.get("/admin/users").status_code == 302
    setup_totp(client, totp_clock)  # the session that sets it up counts as two-factor
    assert client.get("/admin/users").status_code == 200
    assert 'href="/admin/"' in client.get("/").get_data(as_text=True)
