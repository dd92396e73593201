"""Every page fits a phone: each GET page of the app, rendered in Chromium 390 CSS
pixels wide, is no wider than the screen (no sideways scrolling).

The pages are not listed by hand: every rule of ``app.url_map`` that answers GET is
visited, so a page added later is checked too (or the test fails, naming it, until
it is). Only what is not an HTML page is left out, in :data:`NOT_PAGES`, each with
its reason. Path parameters are filled from seeded data, and the data is made to
provoke overflow: long unbroken words, a long email address, a long token name, a
long browser name and an IPv6 address.

Each page is opened by three visitors, and must render (answer 200 at its own
address, as HTML) for at least one of them:

* an anonymous browser (login, registration, the mailed links' pages);
* the Admin, signed in with a password and an authenticator code, so the pages
  that need the Admin's rights render too;
* a browser half-way through the Admin's sign-in, past the password, at the
  second-factor step (the pages of that step), and then, for a page still not
  seen, one half-way through the sign-in of an account with two kinds of second
  factor (which first chooses one);

and the page that shows recovery codes once is checked where a Writer lands on it,
having just set up an authenticator app.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 390, 844

# Endpoints that are not HTML pages, with the reason each is left out.
NOT_PAGES = {
    "static": "files (CSS, JS, images), not pages",
    "security.static": "Flask-Security's script files, not pages",
    "api_v1.list_entries": "JSON API",
    "api_v1.get_entry": "JSON API",
    "api_v1.me": "JSON API",
    "api_v1.list_tags": "JSON API",
    "api_v1.export": "JSON API (a download)",
    "api_docs.openapi_json": "the API's OpenAPI document (JSON)",
    "admin.audit_csv": "a download (CSV)",
    "admin.audit_jsonl": "a download (JSON Lines)",
    "health.healthz": "JSON for load balancers and monitors",
    "health.readyz": "JSON for load balancers and monitors",
}

# HTML pages that render only at one moment of a flow this test does not go
# through, with the reason. The test checks that these, and only these, rendered
# for none of its visitors, so the list cannot go stale.
ONLY_IN_A_FLOW = {
    "security.wan_delete": "GET only redirects to /wan-register; deleting is a POST",
    "admin.role_change": "GET only goes back to the role's page; changes are POSTs",
    "admin.index": "only redirects to the users or the audit log, both checked",
}

ADMIN, ADMIN_PASSWORD = "admin@example.com", "adminpass"
WRITER, WRITER_PASSWORD = "writer@example.com", "writerpass"
BOTH, BOTH_PASSWORD = "two.factors@example.org", "a-long-password"
LONG_WORD = "Supercalifragilisticexpialidocious" * 6
LONG_EMAIL = ("a.writer.with.an.unusually.long.address.that.never.breaks"
              "@a-very-long-subdomain-of-an-example-organisation.example.org")
LONG_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 DiaryNarrowScreenTest/1.0 "
    "ExtraLongProductTokenWithoutAnySpacesAtAll_" + "x" * 80
)
LONG_IP = "2001:0db8:85a3:0000:0000:8a2e:0370:7334"


@pytest.fixture
def seeded(app, demo_users, totp_clock):
    """The demo accounts, the Admin with an authenticator app, and data that is hard
    to fit: return the values of the path parameters and the Admin's TOTP secret."""
    from flask_security import hash_password
    from flask_security.utils import naive_utcnow
    from flask_security.confirmable import generate_confirmation_link
    from flask_security.recoverable import generate_reset_link

    from diary.api import errors as api_errors
    from diary.extensions import db
    from diary.models import Entry, User
    from diary.security.core import security
    from diary.services import audit, tokens
    from diary.models.types import Strength
    from diary.services.audit import AuditTag

    # This test signs in more often than a person would in a minute.
    app.config["LIMIT_LOGIN_PER_IP"] = "100 per minute"
    with app.test_request_context():
        datastore = security.datastore
        admin = datastore.find_user(email=ADMIN)
        secret = security.totp_factory.generate_totp_secret()
        datastore.tf_set(admin, "authenticator", secret)
        writer = datastore.create_user(email=LONG_EMAIL, password=hash_password("a-long-password"),
                                       roles=["Writer"], confirmed_at=None)
        db.session.flush()
        entry = Entry(user_id=writer.id, content=f"A word too long for a phone: {LONG_WORD}")
        db.session.add(entry)
        db.session.add(Entry(user_id=admin.id, content=f"The Admin's own {LONG_WORD}"))
        db.session.commit()
        tokens.create_token(admin, "t" * 100, ["entries:read"], timedelta(days=30),
                            strength=Strength.PASSWORD)
        for tag in (AuditTag.LOGIN_FAILURE, AuditTag.LOGIN_SUCCESS):
            audit.record_event(tag, user=admin, ip=LONG_IP, user_agent=LONG_USER_AGENT)
        # An account with two kinds of second factor chooses one at /tf-select.
        both = datastore.create_user(email=BOTH, password=hash_password(BOTH_PASSWORD),
                                     roles=["Writer"], confirmed_at=naive_utcnow())
        datastore.tf_set(both, "authenticator", security.totp_factory.generate_totp_secret())
        datastore.create_webauthn(
            both, credential_id=b"narrow-screen-key", public_key=b"not-used-here",
            name="Security key", sign_count=0, usage="secondary", device_type="single_device",
            backup_state=False, transports=["usb"])
        db.session.commit()
        _link, reset_token = generate_reset_link(admin)
        _link, confirm_token = generate_confirmation_link(writer)
        from flask_security.change_email import _generate_token

        change_token = _generate_token(admin, "admin.new.address@example.org")
        from diary.services.admin import Action

        values = {
            "entry_id": entry.id,
            "user_id": writer.id,
            "role_id": datastore.find_role("Writer").id,
            "change": "grant",
            # Every action on a user has a page of its own (its reason form).
            "action_name": [action.value for action in Action],
            "slug": api_errors.problem_types()[0][0],
            # The archive's month of the entries above (written now; the Admin's
            # zone is UTC).
            "year": entry.created_at.year,
            "month": entry.created_at.month,
            ("security.reset_password", "token"): reset_token,
            ("security.confirm_email", "token"): confirm_token,
            ("security.change_email_confirm", "token"): change_token,
        }
        assert db.session.scalar(sa.select(User.id).where(User.email == LONG_EMAIL))
    return values, secret


def page_paths(app, values) -> list[tuple[str, str]]:
    """Return (endpoint, path) for every GET rule that is a page, once for each
    value of a parameter given a list of values."""
    from flask import url_for

    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        choices = {}
        for name in sorted(rule.arguments):
            key = (rule.endpoint, name) if (rule.endpoint, name) in values else name
            assert key in values, f"no value for <{name}> of {rule.endpoint}: seed one"
            value = values[key]
            choices[name] = value if isinstance(value, list) else [value]
        with app.test_request_context():
            for combination in itertools.product(*choices.values()):
                arguments = dict(zip(choices, combination))
                paths.append((rule.endpoint, url_for(rule.endpoint, **arguments)))
    return sorted(paths)


def overflow(page) -> int:
    """How many CSS pixels the document is wider than the screen (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def visit(page, base_url: str, path: str) -> tuple[bool, int, list[str]]:
    """Open ``path``; return whether it rendered there as an HTML page, how far it
    overflows, and the elements wider than the screen (for the failure message)."""
    response = page.goto(path)
    page.wait_for_load_state("load")
    rendered = (
        response is not None
        and response.status == 200
        and page.url.split("?")[0] == base_url + path.split("?")[0]
        and "text/html" in (response.headers.get("content-type") or "")
    )
    return (rendered, *measure(page))


def measure(page) -> tuple[int, list[str]]:
    """Return how far the page in ``page`` overflows, and the elements wider than
    the screen (for the failure message)."""
    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .slice(0, 5)
            .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                      + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""
    )
    return overflow(page), too_wide


def phone(browser, base_url: str):
    context = browser.new_context(
        base_url=base_url, viewport={"width": WIDTH, "height": HEIGHT},
        user_agent=LONG_USER_AGENT, device_scale_factor=1,
    )
    context.set_default_timeout(10_000)
    return context


def signed_in(page) -> bool:
    """Whether the browser of ``page`` is signed in (its dashboard answers)."""
    return page.request.get("/", max_redirects=0).status == 200


def sign_in_to_second_factor(page, email=ADMIN, password=ADMIN_PASSWORD,
                             step="/tf-validate") -> None:
    log_in(page, email, password)
    assert step in page.url, (page.url, page.locator("main").inner_text())


def test_every_page_fits_a_390px_screen(app, browser, live_server, seeded, totp_clock):
    from diary.security.core import security

    values, secret = seeded
    paths = page_paths(app, values)
    rendered: set[str] = set()
    problems: list[str] = []

    def check(context_name, page, endpoint, path):
        ok, extra, elements = visit(page, live_server, path)
        if ok:
            rendered.add(endpoint)
        if extra > 0:
            problems.append(f"{path} ({context_name}): {extra}px too wide: {elements}")

    anonymous = phone(browser, live_server)
    page = anonymous.new_page()
    for endpoint, path in paths:
        check("anonymous", page, endpoint, path)
    anonymous.close()

    admin = phone(browser, live_server)
    page = admin.new_page()

    def sign_in_as_admin():
        sign_in_to_second_factor(page)
        totp_clock.advance(30)  # a new code: each one works once
        with app.app_context():
            code = security.totp_factory.generate_totp_password(secret)
        page.locator("#tf-validate-form input[name=code]").fill(code)
        page.locator("#tf-validate-form [type=submit]").click()
        page.wait_for_load_state()
        assert signed_in(page), page.url

    sign_in_as_admin()
    for endpoint, path in paths:
        check("Admin", page, endpoint, path)
        if not signed_in(page):
            # Opening a page of the sign-in's second step ends a finished sign-in
            # (the library's rule): sign in again for the pages after it.
            sign_in_as_admin()
    admin.close()

    # The recovery codes shown once, right after a first second factor: a Writer
    # sets up an authenticator app and lands there.
    writer = phone(browser, live_server)
    page = writer.new_page()
    log_in(page, WRITER, WRITER_PASSWORD)
    page.goto("/tf-setup")
    page.get_by_label("Authenticator app").check()
    page.get_by_role("button", name="Continue").click()
    totp = pyotp.TOTP(page.get_by_test_id("totp-key").inner_text().replace("-", ""))
    page.locator("input[name=code]").fill(totp.at(totp_clock.now))
    page.get_by_role("button", name="Confirm and switch on").click()
    factor_added = dict(paths)["web.factor_added"]
    page.wait_for_url("**" + factor_added)
    rendered.add("web.factor_added")
    extra, elements = measure(page)
    if extra > 0:
        problems.append(f"{factor_added} (Writer): {extra}px too wide: {elements}")
    writer.close()

    # The second-factor step's own pages, each from a fresh sign-in (opening one
    # may end the half-done sign-in, as leaving it does).
    for email, password, step in ((ADMIN, ADMIN_PASSWORD, "/tf-validate"),
                                  (BOTH, BOTH_PASSWORD, "/tf-select")):
        for endpoint, path in paths:
            if endpoint in rendered:
                continue
            halfway = phone(browser, live_server)
            page = halfway.new_page()
            sign_in_to_second_factor(page, email, password, step)
            check(f"{email} at the second factor", page, endpoint, path)
            halfway.close()

    assert not problems, "pages wider than the screen:\n" + "\n".join(problems)
    never = sorted({endpoint for endpoint, _path in paths} - rendered)
    assert never == sorted(ONLY_IN_A_FLOW), (
        f"these GET pages rendered for nobody: {never}; give the test what they need "
        "(a path value, a visitor), or list them in NOT_PAGES or ONLY_IN_A_FLOW with "
        "the reason")
