"""Two gunicorn instances behind nginx, sharing PostgreSQL and Redis (issue 12).

Runs the shipped deploy/nginx.conf and deploy/gunicorn.conf.py (tests/support/stack.py)
in production mode (DIARY_HTTPS=true, DIARY_TRUSTED_PROXIES=1) over a throwaway TLS
certificate, on a throwaway PostgreSQL and Redis (this test stops its PostgreSQL),
and talks to nginx only. Which instance answered is read from the instances' own
logs by the request id nginx gives each request.

Skipped where nginx, openssl, gunicorn or PostgreSQL's server programs are missing;
failed instead when DIARY_E2E_REQUIRED is set (CI). It uses its own servers, so it
runs the same in the suite's SQLite and PostgreSQL passes.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import time

import pytest
import requests

from tests.support import stack as deployment

pytestmark = pytest.mark.deploy

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "two instances, one diary"
NEW_PASSWORD = "a different long passphrase"
LOGIN_LIMIT = 10  # LIMIT_LOGIN_PER_IP = "10 per minute" (src/diary/config.py)
LOCKOUT_THRESHOLD = 5  # LOCKOUT_THRESHOLD (src/diary/config.py)
# SECURITY_MSG_GENERIC_AUTHN_FAILED (src/diary/config.py), HTML-escaped.
REFUSED = "That email address and password don&#39;t match an account"
BOTH = {"instance-1", "instance-2"}


@pytest.fixture(scope="module")
def site():
    reason = deployment.unavailable_reason()
    if reason:
        if os.environ.get("DIARY_E2E_REQUIRED"):
            pytest.fail(f"DIARY_E2E_REQUIRED is set but {reason}")
        pytest.skip(reason)
    with deployment.stack(instances=2, workers=2) as running:
        deployment.create_users(running, [("alice@example.org", PASSWORD),
                                          ("bob@example.org", PASSWORD)])
        yield running


class Client:
    """One browser: its own cookies, talking to nginx over verified TLS, counting its
    sign-in attempts and noting which instance answered each request."""

    def __init__(self, site):
        self.site = site
        self.http = requests.Session()
        # Given with each request: a session's own verify loses to REQUESTS_CA_BUNDLE.
        self.verify = str(site.ca)
        self.token = None

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.site.url + path, allow_redirects=False, timeout=30,
                             verify=self.verify)

    def post_form(self, path: str, data: dict, reuse_token: bool = False) -> requests.Response:
        """POST ``data`` with the form's CSRF token: with ``reuse_token``, the one the
        last form page of this session had (one request: nginx's round robin then
        alternates instances between posts), else fetched from ``path`` first."""
        if not (reuse_token and self.token):
            self.remember_token(self.get(path))
        assert self.token, f"no CSRF token on {path}"
        response = self.http.post(self.site.url + path,
                                  data=data | {"csrf_token": self.token},
                                  headers={"Referer": self.site.url + path},
                                  allow_redirects=False, timeout=30, verify=self.verify)
        self.remember_token(response)
        return response

    def remember_token(self, response: requests.Response) -> None:
        found = CSRF_RE.search(response.text)
        if found:
            self.token = found.group(1)

    def login(self, email: str, password: str, reuse_token: bool = False) -> requests.Response:
        return self.post_form("/login", {"email": email, "password": password}, reuse_token)

    def served_by(self, response: requests.Response) -> str:
        name = self.site.served_by(response.headers["X-Request-ID"])
        assert name in BOTH, "no instance logged this request"
        return name

    def until_served_by(self, path: str, instance: str, tries: int = 12) -> requests.Response:
        """GET ``path`` until ``instance`` answers; return that answer."""
        for _ in range(tries):
            response = self.get(path)
            if self.served_by(response) == instance:
                return response
        raise AssertionError(f"{instance} never answered {path} in {tries} requests")


def other(instance: str) -> str:
    return (BOTH - {instance}).pop()


def signed_in(response: requests.Response) -> bool:
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    return False


def test_nginx_serves_tls_http2_redirects_http_and_serves_static_files(site):
    context = ssl.create_default_context(cafile=str(site.ca))
    context.set_alpn_protocols(["h2", "http/1.1"])
    host, port = site.url.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port))) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            assert tls.selected_alpn_protocol() == "h2"

    plain = requests.get(site.http_url + "/login", allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")

    static = requests.get(site.url + "/static/favicon.svg", verify=str(site.ca), timeout=10)
    assert static.status_code == 200 and static.content.startswith(b"<svg")
    assert "X-Request-ID" not in static.headers  # nginx's answer, not an instance's

    health = requests.get(site.url + "/healthz", verify=str(site.ca), timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}

    # The shipped access log format has no request line: paths (tokens) stay out.
    reset = requests.get(site.url + "/reset/not-a-real-token-5f3a", verify=str(site.ca),
                         allow_redirects=False, timeout=10)
    # nginx writes a request's line once it has sent the answer, so the client can
    # have it first: wait for the line.
    deadline = time.monotonic() + 5
    logged = site.nginx_access_log.read_text()
    while reset.headers["X-Request-ID"] not in logged and time.monotonic() < deadline:
        time.sleep(0.05)
        logged = site.nginx_access_log.read_text()
    assert reset.headers["X-Request-ID"] in logged
    assert "not-a-real-token-5f3a" not in logged and "/healthz" not in logged


def test_sessions_lockout_login_limit_and_password_change_span_both_instances(site):
    """One minute's budget of sign-in attempts from one address (nginx's
    X-Forwarded-For, DIARY_TRUSTED_PROXIES=1), spent across both instances."""
    attempts = 0

    # A session made through one instance works on the other.
    alice = Client(site)
    response = alice.login("alice@example.org", PASSWORD)
    attempts += 1
    assert response.status_code == 302
    signed_in_by = alice.served_by(response)
    assert signed_in(alice.until_served_by("/", other(signed_in_by)))
    assert signed_in(alice.until_served_by("/", signed_in_by))

    alice_elsewhere = Client(site)
    assert alice_elsewhere.login("alice@example.org", PASSWORD).status_code == 302
    attempts += 1
    assert signed_in(alice_elsewhere.until_served_by("/", "instance-1"))
    assert signed_in(alice_elsewhere.until_served_by("/", "instance-2"))

    # Lockout counts failures made on both instances.
    bob = Client(site)
    failed_on = set()
    for guess in range(LOCKOUT_THRESHOLD):
        response = bob.login("bob@example.org", f"wrong guess {guess}", reuse_token=True)
        attempts += 1
        assert response.status_code == 200 and REFUSED in response.text
        failed_on.add(bob.served_by(response))
    assert failed_on == BOTH
    locked = bob.login("bob@example.org", PASSWORD)
    attempts += 1
    assert locked.status_code == 200 and REFUSED in locked.text
    assert not signed_in(bob.get("/"))

    # A password change on one instance ends the other session on the other.
    changed = alice.post_form("/change", {"password": PASSWORD, "new_password": NEW_PASSWORD,
                                          "new_password_confirm": NEW_PASSWORD})
    attempts += 1  # /change checks a password: it counts as a sign-in attempt
    assert changed.status_code == 302
    changed_on = alice.served_by(changed)
    assert not signed_in(alice_elsewhere.until_served_by("/", other(changed_on)))
    assert signed_in(alice.until_served_by("/", other(changed_on)))

    # The login limit is shared: over it, 429 whichever instance answers.
    assert attempts < LOGIN_LIMIT
    guesser = Client(site)
    while attempts < LOGIN_LIMIT:
        response = guesser.login("nobody@example.org", "guess", reuse_token=True)
        attempts += 1
        assert response.status_code == 200, f"attempt {attempts} refused"
    refused_on = set()
    for _ in range(8):
        response = guesser.login("nobody@example.org", "guess", reuse_token=True)
        assert response.status_code == 429 and "Retry-After" in response.headers
        refused_on.add(guesser.served_by(response))
        if refused_on == BOTH:
            break
    assert refused_on == BOTH


def test_readyz_fails_while_postgresql_is_down_and_recovers(site):
    probe = Client(site)
    ready = probe.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"

    site.postgres.stop()
    try:
        answered = set()
        for _ in range(8):
            response = probe.get("/readyz")
            assert response.status_code == 503
            assert response.json()["checks"]["database"] == "failing"
            answered.add(probe.served_by(response))
            if answered == BOTH:
                break
        assert answered == BOTH
    finally:
        site.postgres.start()

    # Each instance's pool reconnects by itself; poll until both say ready.
    ready_on = set()
    deadline = time.monotonic() + 30
    while ready_on != BOTH and time.monotonic() < deadline:
        response = probe.get("/readyz")
        if response.status_code == 200:
            ready_on.add(probe.served_by(response))
        else:
            time.sleep(0.2)
    assert ready_on == BOTH
