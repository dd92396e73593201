"""Recovery codes: generated with the first second factor, shown once, stored
encrypted, each usable once, all replaced by a new set."""

from __future__ import annotations

import re

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask_security import user_failed_authn

from diary.extensions import db
from diary.models import AuditEvent, User
from diary.services.audit import AuditTag
from tests.support.mfa_flows import page_csrf, setup_totp

CODE_RE = re.compile(r"<li><code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code></li>")


def first_codes(client, auth, clock) -> list[str]:
    """Log in as the writer, switch on TOTP, and read the codes shown once."""
    auth.login()
    setup_totp(client, clock)
    page = client.get("/account/factors/added").get_data(as_text=True)
    codes = CODE_RE.findall(page)
    assert len(codes) == 10
    return codes


def use_code(client, auth, code: str):
    if client.get("/").status_code == 200:  # signed in
        auth.logout()
    auth.login()
    page = client.get("/mf-recovery").get_data(as_text=True)
    return client.post("/mf-recovery", data={"code": code, "csrf_token": page_csrf(page)})


def test_first_method_brings_codes_shown_once_and_stored_encrypted(
    client, auth, demo_users, app, totp_clock
):
    codes = first_codes(client, auth, totp_clock)
    page = client.get("/account/factors/added")
    assert page.status_code == 302 and page.headers["Location"] == "/account"
    # The library's "show my codes again" is off, in HTML and JSON.
    assert client.get("/mf-recovery-codes?show_codes=1").headers["Location"] == "/mf-recovery-codes"
    assert client.get("/mf-recovery-codes", headers={"Accept": "application/json"}).status_code == 403

    with app.app_context():
        user = db.session.get(User, demo_users["writer@example.com"])
        stored = list(user.mf_recovery_codes)
        assert not set(codes) & set(stored)
        key = app.config["SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS"][0]
        assert sorted(Fernet(key).decrypt(c.encode()).decode() for c in stored) == sorted(codes)
        assert user.mf_recovery_codes_generated_at is not None


def test_download_link_holds_the_codes(client, auth, demo_users, totp_clock):
    auth.login()
    setup_totp(client, totp_clock)
    page = client.get("/account/factors/added").get_data(as_text=True)
    link = re.search(r'href="(data:text/plain[^"]+)" download="diary-recovery-codes.txt"', page)
    assert link and all(code in link.group(1) for code in CODE_RE.findall(page))


def test_each_code_works_once(client, auth, demo_users, app, totp_clock, outbox):
    codes = first_codes(client, auth, totp_clock)

    response = use_code(client, auth, codes[0].upper())  # case does not matter
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert "recovery code was used" in outbox[-1].body

    seen = []
    user_failed_authn.connect(
        lambda _a, user, auth_type, tfa=False, **_: seen.append((auth_type, tfa)), app, weak=False
    )
    response = use_code(client, auth, codes[0])
    assert response.status_code == 200
    assert client.get("/").status_code == 302
    assert seen == [("recovery_code", True)]

    assert use_code(client, auth, codes[1]).headers["Location"] == "/"
    with app.app_context():
        used = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.tag == str(AuditTag.RECOVERY_CODE_USED))
        ).all()
        assert [e.details["remaining"] for e in used] == [9, 8]


def test_regenerating_replaces_the_whole_set(client, auth, demo_users, app, totp_clock, outbox):
    old = first_codes(client, auth, totp_clock)
    page = client.get("/mf-recovery-codes").get_data(as_text=True)
    assert not CODE_RE.findall(page)
    response = client.post("/mf-recovery-codes", data={"csrf_token": page_csrf(page)})
    new = CODE_RE.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert "New recovery codes were generated" in outbox[-1].body

    assert use_code(client, auth, old[2]).status_code == 200  # refused
    assert use_code(client, auth, new[2]).headers["Location"] == "/"


def test_regenerating_needs_a_fresh_login(client, auth, demo_users, app, totp_clock):
    first_codes(client, auth, totp_clock)
    page = client.get("/account").get_data(as_text=True)
    with client.session_transaction() as session:
        session["fs_paa"] -= 11 * 60
    response = client.post("/mf-recovery-codes", data={"csrf_token": page_csrf(page)})
    assert response.status_code == 302 and "/verify" in response.headers["Location"]


def test_switching_the_last_factor_off_discards_the_codes(client, auth, demo_users, app, totp_clock):
    first_codes(client, auth, totp_clock)
    page = client.get("/account").get_data(as_text=True)
    client.post("/tf-setup", data={"setup": "disable", "csrf_token": page_csrf(page)})
    with app.app_context():
        user = db.session.get(User, demo_users["writer@example.com"])
        assert not user.mf_recovery_codes and user.mf_recovery_codes_generated_at is None


def test_the_recovery_code_page_speaks_diarys_words(client, auth, demo_users, totp_clock):
    first_codes(client, auth, totp_clock)
    auth.logout()
    auth.login()
    page = client.get("/mf-recovery").get_data(as_text=True)
    assert "<h1>Use a recovery code</h1>" in page
    assert ">Recovery code</label>" in page and 'value="Check code"' in page
    assert "Recovery Code" not in page and "Submit Code" not in page
