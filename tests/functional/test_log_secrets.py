"""The log never holds a secret (issue 12): every way in and every credential,
driven through the real forms and the API with distinctive values while the app's
own log handler (JSON, DEBUG, as formatted in production) is captured; then each
value is looked for in the log.

Flows: registration and its confirmation link, a failed and a good password
sign-in with "remember me", an entry written and read in the pages, a personal
access token made and used (an entry written and read through /api/v1), an auth
token from the JSON login and its refresh token, a password change, an email change
confirmed by its link, sign-out, a password reset by its link, an authenticator app
set up, recovery codes shown, sign-in with a code from the app and with a recovery
code, a passkey registered and a sign-in with it."""

from __future__ import annotations

import logging
import re

import pytest
from flask.testing import FlaskClient

from diary.security.identity import REMEMBER_COOKIE
from tests.api.conftest import login_auth_token
from tests.conftest import (
    AuthActions,
    app_on_test_database,
    csrf_token,
    link_path,
    mail_link,
    open_confirm_link,
    sent_mails,
)
from tests.functional.test_account_flows import (
    change_password,
    register,
    request_email_change,
    request_reset,
    set_new_password,
)
from tests.functional.test_mfa_recovery_codes import CODE_RE
from tests.support.log_capture import access_records, captured_log, records
from tests.support.mfa_flows import (
    page_csrf,
    passkey_signin,
    register_passkey,
    setup_totp,
    submit_code,
)
from tests.support.soft_webauthn import SoftAuthenticator
from tests.web.test_tokens import TOKEN_RE

EMAIL = "logwatch@example.org"
NEW_EMAIL = "logwatch.moved@example.org"
PASSWORD = "Zephyr-Quokka-Lantern-7731"
WRONG_PASSWORD = "Marmot-Wrong-Guess-4419"
CHANGED_PASSWORD = "Orchid-Velvet-Canyon-2286"
RESET_PASSWORD = "Tundra-Falcon-Meadow-5519"
PAGE_ENTRY = "Pomegranate lighthouse whisper 8812"
API_ENTRY = "Tamarind harbour secret 6643"


class RecordingClient(FlaskClient):
    """A test client that keeps the X-Request-ID of every answer it got, and every
    path it asked for."""

    answered: list[str] = []
    paths: list[str] = []

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        self.answered.append(response.headers.get("X-Request-ID"))
        self.paths.append(response.request.path)
        return response


@pytest.fixture
def app(database_url, tmp_path):
    """The test app with the production log format, at its most talkative level;
    its test clients note every answer's request id.

    Logging is the process's: the last app made sets its format, so this test makes
    no other app. The migrations run for the test session configured SQLAlchemy's
    statement log (alembic.ini): it is put back as a server process has it, so
    that what keeps SQL out of the log is the app's own setting."""
    engine_logger = logging.getLogger("sqlalchemy.engine")
    saved = engine_logger.level
    engine_logger.setLevel(logging.NOTSET)
    try:
        with app_on_test_database(
            database_url, tmp_path, LOG_FORMAT="json", LOG_LEVEL="DEBUG",
            # More sign-ins from one address than a minute's limit allows.
            LIMIT_LOGIN_PER_IP="100 per minute",
        ) as app:
            RecordingClient.answered = []
            RecordingClient.paths = []
            app.test_client_class = RecordingClient
            yield app
    finally:
        engine_logger.setLevel(saved)


class Secrets:
    """Every secret the flows used, by what it is."""

    def __init__(self):
        self.found: dict[str, set[str]] = {}

    def add(self, kind: str, *values: str | None) -> None:
        for value in values:
            assert value, f"no {kind} to look for"
            self.found.setdefault(kind, set()).add(value)

    def cookies(self, app, client) -> None:
        """Add the values of the browser's session and remember-me cookies."""
        for name in (app.config["SESSION_COOKIE_NAME"], REMEMBER_COOKIE):
            cookie = client.get_cookie(name)
            if cookie is not None and cookie.value:
                self.add(f"cookie {name}", cookie.value)


def token_of(link: str) -> str:
    """Return the token a mailed link carries (its last path segment)."""
    return link_path(link).split("?")[0].rstrip("/").rsplit("/", 1)[1]


def drive_every_flow(app, client, totp_clock, secrets: Secrets) -> None:
    auth = AuthActions(client)

    # Registration and the confirmation link.
    assert register(client, EMAIL, PASSWORD).status_code == 302
    link = mail_link(sent_mails(app)[-1], "/confirm/")
    secrets.add("confirmation token", token_of(link))
    assert open_confirm_link(client, link).status_code == 302

    # A failed sign-in, then a good one with "remember me".
    assert auth.login(EMAIL, WRONG_PASSWORD).status_code == 200
    assert auth.login(EMAIL, PASSWORD, remember="y").status_code == 302
    secrets.cookies(app, client)
    assert client.get_cookie(REMEMBER_COOKIE) is not None

    # An entry written and read in the pages.
    response = client.post("/new_entry", data={
        "content": PAGE_ENTRY, "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    entry_page = response.headers["Location"]
    assert PAGE_ENTRY in client.get("/").get_data(as_text=True)
    assert PAGE_ENTRY in client.get(entry_page).get_data(as_text=True)

    # A personal access token, made in the pages and used on the API.
    response = client.post("/account/tokens", data={
        "name": "log watch", "scopes": ["entries:read", "entries:write"], "lifetime": "90",
        "csrf_token": csrf_token(client, "/account/tokens")})
    assert response.status_code == 201
    pat = TOKEN_RE.search(response.get_data(as_text=True)).group(1)
    secrets.add("personal access token", pat)
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {pat}"}
    created = api.post("/api/v1/entries", json={"content": API_ENTRY}, headers=bearer)
    assert created.status_code == 201, created.get_data(as_text=True)
    entry_id = created.get_json()["id"]
    read = api.get(f"/api/v1/entries/{entry_id}", headers=bearer)
    assert read.get_json()["content"] == API_ENTRY
    assert api.get("/api/v1/entries?q=Tamarind", headers=bearer).status_code == 200

    # An auth token from the JSON login, used; its refresh token swapped for new ones.
    tokens = login_auth_token(app, EMAIL, PASSWORD)
    secrets.add("auth token", tokens["authentication_token"])
    secrets.add("refresh token", tokens["refresh_token"])
    header = {"Authentication-Token": tokens["authentication_token"]}
    assert api.get("/api/v1/me", headers=header).status_code == 200
    browser = app.test_client()
    csrf = browser.get("/login", headers={"Accept": "application/json"}).get_json()
    refreshed = browser.post(
        "/refresh-token", json={"refresh_token": tokens["refresh_token"]},
        headers={"X-CSRFToken": csrf["response"]["csrf_token"]})
    assert refreshed.status_code == 200, refreshed.get_data(as_text=True)
    user = refreshed.get_json()["response"]["user"]
    secrets.add("auth token", user["authentication_token"])
    secrets.add("refresh token", user["refresh_token"])
    header = {"Authentication-Token": user["authentication_token"]}
    assert api.get(f"/api/v1/entries/{entry_id}", headers=header).status_code == 200

    # A password change, then an email change confirmed by its link.
    assert change_password(client, PASSWORD, CHANGED_PASSWORD).status_code == 302
    secrets.cookies(app, client)
    assert request_email_change(client, NEW_EMAIL, CHANGED_PASSWORD).status_code == 200
    link = mail_link(sent_mails(app)[-1], "/change-email/")
    secrets.add("change-email token", token_of(link))
    assert open_confirm_link(client, link).status_code == 302
    secrets.cookies(app, client)

    # Sign-out, then a password reset by its link.
    assert auth.logout().status_code == 302
    assert request_reset(client, NEW_EMAIL).status_code == 200
    link = mail_link(sent_mails(app)[-1], "/reset/")
    secrets.add("reset token", token_of(link))
    assert client.get(link_path(link)).status_code == 200
    assert set_new_password(client, link, RESET_PASSWORD).status_code == 302

    # An authenticator app and the recovery codes it brings.
    assert auth.login(NEW_EMAIL, RESET_PASSWORD).status_code == 302
    secrets.cookies(app, client)
    totp = setup_totp(client, totp_clock)
    secrets.add("TOTP key", totp.secret)
    secrets.add("TOTP code", totp.at(totp_clock.now))
    codes = CODE_RE.findall(client.get("/account/factors/added").get_data(as_text=True))
    assert len(codes) == 10
    secrets.add("recovery code", *codes)

    # Sign-in with a code from the app…
    assert auth.logout().status_code == 302
    assert auth.login(NEW_EMAIL, RESET_PASSWORD).headers["Location"].startswith("/tf-validate")
    totp_clock.advance(30)
    code = totp.at(totp_clock.now)
    secrets.add("TOTP code", code)
    assert submit_code(client, code).headers["Location"] == "/"
    secrets.cookies(app, client)

    # …and with a recovery code.
    assert auth.logout().status_code == 302
    auth.login(NEW_EMAIL, RESET_PASSWORD)
    page = client.get("/mf-recovery").get_data(as_text=True)
    response = client.post("/mf-recovery", data={"code": codes[3], "csrf_token": page_csrf(page)})
    assert response.headers["Location"] == "/"
    secrets.cookies(app, client)
    assert client.get("/").status_code == 200

    # A passkey registered, and a sign-in with it alone.
    passkey = SoftAuthenticator()
    assert register_passkey(client, passkey, "Log watch key").status_code == 302
    assert auth.logout().status_code == 302
    assert passkey_signin(client, passkey).headers["Location"] == "/"
    secrets.cookies(app, client)
    assert client.get("/").status_code == 200
    assert auth.logout().status_code == 302


def occurs(value: str, text: str) -> bool:
    """Whether ``value`` occurs in ``text``; a short number (a TOTP code) only as
    a whole word, so that it is not found inside another number."""
    if value.isdigit():
        return re.search(rf"(?<![0-9]){value}(?![0-9])", text) is not None
    return value.lower() in text.lower()


def test_no_secret_of_any_flow_reaches_the_log(app, totp_clock):
    client = app.test_client()
    secrets = Secrets()
    with captured_log() as log:
        drive_every_flow(app, client, totp_clock, secrets)
    text = log.getvalue()

    # The log was written, one JSON object a line, a record for each request.
    every = records(text)
    requests = access_records(text)
    # Every answer's id, once each, and nothing else.
    assert [r["request_id"] for r in requests] == RecordingClient.answered
    assert len(set(RecordingClient.answered)) == len(requests) > 50
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["request_id"]) for r in requests)
    assert all(isinstance(r["status"], int) for r in requests)
    seen = {(r["method"], r["route"]) for r in requests}
    for expected in [
        ("POST", "/register"), ("POST", "/confirm/<token>"), ("POST", "/login"),
        ("POST", "/new_entry"), ("POST", "/account/tokens"), ("POST", "/api/v1/entries"),
        ("GET", "/api/v1/entries/<int(min=1, max=2147483647):entry_id>"), ("POST", "/refresh-token"),
        ("POST", "/change"), ("POST", "/change-email"), ("POST", "/change-email/<token>"),
        ("POST", "/logout"), ("POST", "/reset"), ("GET", "/reset/<token>"),
        ("POST", "/reset/<token>"), ("POST", "/tf-validate"), ("POST", "/mf-recovery"),
        ("POST", "/wan-register/<token>"), ("POST", "/wan-signin/<token>"),
    ]:
        assert expected in seen, expected
    assert {r["status"] for r in requests if r["route"] == "/login" and r["method"] == "POST"} >= {
        200, 302}
    signed_in = [r for r in requests if r["user_id"] is not None]
    assert signed_in and all(r["remote_addr"] == "127.0.0.1" for r in requests)

    # No secret, anywhere in it. (The timestamps are left out: their microseconds
    # could hold a six-digit code by chance.)
    searched = "\n".join(
        repr({k: v for k, v in record.items() if k != "timestamp"}) for record in every
    )
    for kind in ("confirmation token", "reset token", "change-email token",
                 "personal access token", "auth token", "refresh token", "TOTP key",
                 "TOTP code", "recovery code", "cookie session", f"cookie {REMEMBER_COOKIE}"):
        assert secrets.found.get(kind), f"the flows used no {kind}"
    # Every long path segment asked for: the tokens of the links and of the
    # second-factor and passkey steps (/wan-register/<state>, /wan-signin/<state>).
    segments = {part for path in RecordingClient.paths for part in path.split("/")
                if len(part) >= 20}
    assert any(path.startswith("/wan-signin/") for path in RecordingClient.paths)
    secrets.add("token in a path", *segments)
    secrets.add("password", PASSWORD, WRONG_PASSWORD, CHANGED_PASSWORD, RESET_PASSWORD)
    secrets.add("entry content", PAGE_ENTRY, API_ENTRY, "Pomegranate", "Tamarind")
    secrets.add("email address", EMAIL, NEW_EMAIL)
    leaks = [
        (kind, value) for kind, values in secrets.found.items() for value in sorted(values)
        if occurs(value, searched)
    ]
    assert not leaks, f"in the log: {sorted({kind for kind, _ in leaks})}"
