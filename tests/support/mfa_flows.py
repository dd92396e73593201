"""Multi-factor flows through the real forms, for the functional tests: set up an
authenticator app (codes computed with ``pyotp``, independent of the app's own
TOTP code), answer the second-factor step, register and use passkeys."""

from __future__ import annotations

import html
import re

import pyotp

from tests.conftest import CSRF_RE

KEY_RE = re.compile(r'id="totp-key"[^>]*>([A-Z2-7-]+)<')
ACTION_RE = re.compile(r'<form action="([^"]+)" method="post"\s+id="{form_id}"')
OPTIONS_RE = re.compile(r'data-options="([^"]*)"')
BASE_ORIGIN = "http://localhost"  # the test apps' BASE_URL (tests/conftest.py): the relying party


def page_csrf(page: str) -> str:
    """Return the CSRF token in an HTML page."""
    match = CSRF_RE.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def form_action(page: str, form_id: str) -> str:
    """Return the action of the form ``form_id`` on ``page``."""
    match = re.search(ACTION_RE.pattern.format(form_id=form_id), page)
    assert match, f"no form {form_id}"
    return html.unescape(match.group(1))


def start_totp_setup(client, method: str = "authenticator") -> tuple[str, str, str]:
    """Choose ``method`` at /tf-setup; return (page, confirm action, csrf)."""
    page = client.get("/tf-setup").get_data(as_text=True)
    response = client.post("/tf-setup", data={"setup": method, "csrf_token": page_csrf(page)})
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    return page, form_action(page, "tf-confirm-form"), page_csrf(page)


def totp_from_page(page: str) -> pyotp.TOTP:
    """Return a pyotp generator for the key shown on the setup page."""
    match = KEY_RE.search(page)
    assert match, "no key on the setup page"
    return pyotp.TOTP(match.group(1).replace("-", ""))


def setup_totp(client, clock) -> pyotp.TOTP:
    """Switch on an authenticator app for the logged-in user; return its generator.

    :param clock: the controlled clock the app's TOTP uses (``clock.now``).
    """
    page, action, csrf = start_totp_setup(client)
    totp = totp_from_page(page)
    response = client.post(action, data={"code": totp.at(clock.now), "csrf_token": csrf})
    assert response.status_code == 302, response.get_data(as_text=True)
    return totp


def submit_code(client, code: str, path: str = "/tf-validate"):
    """Post ``code`` to the second-factor form at ``path``."""
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={"code": code, "csrf_token": page_csrf(page)})


def register_passkey(client, authenticator, name: str, usage: str = "first"):
    """Register a passkey for the logged-in user; return the final response."""
    page = client.get("/wan-register").get_data(as_text=True)
    response = client.post(
        "/wan-register", data={"name": name, "usage": usage, "csrf_token": page_csrf(page)}
    )
    page = response.get_data(as_text=True)
    options = html.unescape(OPTIONS_RE.search(page).group(1))
    credential = authenticator.create(options, BASE_ORIGIN)
    return client.post(
        form_action(page, "wan-register-response-form"),
        data={"credential": credential, "csrf_token": page_csrf(page)},
    )


def passkey_signin(client, authenticator, tamper: bool = False, any_key: bool = False):
    """Sign in (or pass the second-factor step) with a passkey; return the response."""
    page = client.get("/wan-signin").get_data(as_text=True)
    response = client.post("/wan-signin", data={"csrf_token": page_csrf(page)})
    page = response.get_data(as_text=True)
    options = html.unescape(OPTIONS_RE.search(page).group(1))
    credential = authenticator.get(options, BASE_ORIGIN, tamper=tamper, any_key=any_key)
    return client.post(
        form_action(page, "wan-signin-response-form"),
        data={"credential": credential, "csrf_token": page_csrf(page)},
    )
