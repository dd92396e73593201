"""End-to-end fixtures: the app served on a real port, driven by Debian's Chromium
through Playwright.

Without Chromium (``/usr/bin/chromium``, or ``DIARY_CHROMIUM``) these tests skip
with the reason; where ``DIARY_E2E_REQUIRED`` is set (CI) they fail instead, so a
CI run can never pass by skipping them.

The browser opens ``http://localhost:PORT``, not ``127.0.0.1``: WebAuthn needs a
host name as relying-party ID.
"""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("DIARY_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable_reason() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole test session."""
    reason = _unavailable_reason()
    if reason:
        if os.environ.get("DIARY_E2E_REQUIRED"):
            pytest.fail(f"browser tests are required here, but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free port in a background thread; yield its base URL.

    BASE_URL follows, as in a real deployment: mailed links, redirects built by
    the security pages and the WebAuthn origin all name the address the browser
    uses.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://localhost:{server.port}"
    app.config["BASE_URL"] = base_url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def context(browser, live_server):
    """A fresh browser profile (no cookies) pointed at the live server."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


def log_in(page, email: str, password: str) -> None:
    """Log in through the real login form."""
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    """Sign out with the button every page's header holds; wait for the login page."""
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url("**/login")


def write_entry(page, text: str) -> None:
    """Write ``text`` through the dashboard's form and wait until it is saved."""
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_label("What happened today?").fill(text)
    page.get_by_role("button", name="Save entry").click()
    expect(page.get_by_text("Entry saved.")).to_be_visible()


@pytest.fixture
def script_errors(page):
    """Script errors and Content-Security-Policy refusals seen by ``page``; a test
    may watch other pages with :func:`watch_scripts`."""
    return watch_scripts(page, [])


def watch_scripts(page, errors: list) -> list:
    """Add ``page``'s script errors and CSP refusals to ``errors``; return it."""
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" or "Content Security Policy" in msg.text else None)
    return errors
