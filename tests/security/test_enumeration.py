"""diary.security.enumeration: /reset, /confirm and /register answer alike and do the
same work whether or not the address has an account; registering a known address
mails its owner a working reset link, within the reset limits, and is audited.

No test here times anything (the bench, ``bench/oracle``, measures the speed):
they record the costly steps each request takes and compare them.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

import pytest
import sqlalchemy as sa
from flask_security.utils import naive_utcnow

from diary import mail
from diary.extensions import db
from diary.models import AuditEvent, User
from diary.services import ratelimits
from tests.conftest import CSRF_RE, csrf_token, link_path, mail_link, sent_mails

PASSPHRASE = "lantern orbit quietly mango"
NEW_PASSPHRASE = "violet harbour seventeen kites"
UA = "Mozilla/5.0 (test) DiaryEnumeration/1.0"
# Addresses of one length: the digest in a confirmation token is of the address.
KNOWN = "known1@example.org"
UNCONFIRMED = "unconf@example.org"
UNKNOWN = "nobody@example.org"
FRESH = "fresh1@example.org"
assert len({len(a) for a in (KNOWN, UNCONFIRMED, UNKNOWN, FRESH)}) == 1


@pytest.fixture
def accounts(app):
    """A confirmed and an unconfirmed account (KNOWN, UNCONFIRMED)."""
    from flask_security import hash_password

    with app.app_context():
        for email, confirmed in ((KNOWN, True), (UNCONFIRMED, False)):
            app.extensions["security"].datastore.create_user(
                email=email, password=hash_password(PASSPHRASE), roles=["Writer"],
                confirmed_at=naive_utcnow() if confirmed else None,
            )
        db.session.commit()


class Work:
    """Records the costly steps of the requests made while it is on: password
    hashes, token digests (with the length of what is digested), mails handed to
    the sender (by subject; whether to the sink and the size of the text are kept
    apart), rate-limit counts and database commits."""

    def __init__(self):
        self.steps: list[tuple] = []
        self.sinks: list[bool] = []
        self.sizes: list[int] = []

    def take(self) -> Counter:
        """Return the steps recorded since the last call, as a multiset."""
        steps, self.steps = Counter(self.steps), []
        return steps


@pytest.fixture
def work(app, monkeypatch):
    recorder = Work()
    security = app.extensions["security"]
    passwords, digests = security.pwd_context, security.hashing_context
    real_password_hash, real_digest = passwords.hash, digests.hash

    def password_hash(secret, *args, **kwargs):
        recorder.steps.append(("password hash",))
        return real_password_hash(secret, *args, **kwargs)

    def digest(data, *args, **kwargs):
        recorder.steps.append(("token digest", len(data)))
        return real_digest(data, *args, **kwargs)

    real_deliver = mail.deliver

    def deliver(app, message, *, sink=False):
        recorder.steps.append(("mail", message.subject))
        recorder.sinks.append(sink)
        recorder.sizes.append(len(message.body))
        return real_deliver(app, message, sink=sink)

    real_hit = ratelimits.hit

    def hit(limit, key):
        recorder.steps.append(("rate limit", limit.label))
        return real_hit(limit, key)

    def committed(_session):
        recorder.steps.append(("commit",))

    monkeypatch.setattr(passwords, "hash", password_hash)
    monkeypatch.setattr(digests, "hash", digest)
    monkeypatch.setattr(mail, "deliver", deliver)
    monkeypatch.setattr(ratelimits, "hit", hit)
    session_class = type(db.session.session_factory())
    sa.event.listen(session_class, "after_commit", committed)
    yield recorder
    sa.event.remove(session_class, "after_commit", committed)


def post(client, path, as_json=False, **fields):
    token = csrf_token(client, path)
    if as_json:
        return client.post(path, json=fields, headers={"X-CSRF-Token": token})
    return client.post(path, data={**fields, "csrf_token": token})


def register(client, email, as_json=False):
    return post(client, "/register", as_json, email=email, password=PASSPHRASE,
                password_confirm=PASSPHRASE)


def answer(response, email) -> tuple:
    """The answer as a client sees it, with the address asked about and the
    (time-stamped) CSRF token taken out."""
    body = response.get_data(as_text=True).replace(email, "ADDRESS")
    body = CSRF_RE.sub("", body)
    body = re.sub(r'"csrf_token": ?"[^"]+"', "", body)
    return response.status_code, response.headers.get("Location"), response.content_type, body


def fresh_client(app, ip="203.0.113.7"):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": ip, "HTTP_USER_AGENT": UA})
    return client


# --- Same answer ------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
@pytest.mark.parametrize("path, known", [("/reset", KNOWN), ("/confirm", UNCONFIRMED)])
def test_known_and_unknown_addresses_get_the_same_answer(app, accounts, path, known, as_json):
    client = fresh_client(app)
    known_answer = post(client, path, as_json, email=known)
    unknown_answer = post(client, path, as_json, email=UNKNOWN)
    assert known_answer.status_code == 200
    assert answer(known_answer, known) == answer(unknown_answer, UNKNOWN)
    assert [m.to for m in sent_mails(app)] == [[known]]  # only the real one arrives


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_registering_a_known_address_answers_as_a_new_one(app, accounts, as_json):
    client = fresh_client(app)
    new = register(client, FRESH, as_json)
    new_next = client.get("/login")  # where the form goes, with its flash
    known = register(client, KNOWN, as_json)
    known_next = client.get("/login")
    assert new.status_code == (200 if as_json else 302)
    assert answer(new, FRESH) == answer(known, KNOWN)
    assert answer(new_next, FRESH) == answer(known_next, KNOWN)
    assert [m.to for m in sent_mails(app)] == [[FRESH], [KNOWN]]


# --- Same work --------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
@pytest.mark.parametrize("path, known", [("/reset", KNOWN), ("/confirm", UNCONFIRMED)])
def test_unknown_addresses_cost_the_same_work_as_known_ones(
    app, accounts, work, path, known, as_json
):
    client = fresh_client(app)
    post(client, path, as_json, email=UNKNOWN)  # makes the stand-in's password hash once
    work.take()
    post(client, path, as_json, email=known)
    known_work = work.take()
    post(client, path, as_json, email=UNKNOWN)
    unknown_work = work.take()
    # An address of an account that gets no mail (confirmed already, or not yet).
    post(client, path, as_json, email=KNOWN if path == "/confirm" else UNCONFIRMED)
    quiet_work = work.take()

    assert known_work == unknown_work == quiet_work
    assert {step[0] for step in known_work} >= {"token digest", "mail"}
    if path == "/reset":
        assert known_work[("password hash",)] == 1 and known_work[("commit",)] == 1
    # Only the mail to the account went anywhere; the stand-ins went to the sink.
    assert work.sinks == [True, False, True, True]
    assert [m.to for m in sent_mails(app)] == [[known]]
    # The stand-in's text is the real one's, but for its link.
    assert abs(work.sizes[1] - work.sizes[2]) < 20


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_registering_known_and_new_addresses_costs_the_same_work(app, accounts, work, as_json):
    client = fresh_client(app)
    register(client, "warmup@example.org", as_json)
    work.take()
    runs = {}
    for email in (FRESH, KNOWN, UNCONFIRMED):
        register(client, email, as_json)
        runs[email] = work.take()
    assert runs[FRESH] == runs[KNOWN] == runs[UNCONFIRMED]
    steps = runs[FRESH]
    assert steps[("password hash",)] == 1
    assert sum(n for step, n in steps.items() if step[0] == "token digest") == 2
    assert steps[("rate limit", "ip.reset")] == steps[("rate limit", "email.reset")] == 1
    assert work.sinks == [False] * 4


def test_a_stand_in_mail_is_built_like_the_real_one_and_reaches_nobody(
    app, accounts, monkeypatch
):
    built = []

    def send_messages(self, messages):
        built.extend(m.message().as_bytes() for m in messages)
        return len(messages)

    monkeypatch.setattr(mail.SinkEmailBackend, "send_messages", send_messages)
    client = fresh_client(app)
    post(client, "/reset", email=UNKNOWN)
    [stand_in] = built
    assert b"Reset your Diary password" in stand_in
    assert b"http://localhost/reset/" in stand_in  # a link like the real one's
    assert sent_mails(app) == []


def test_a_stand_in_for_an_address_unfit_for_a_header_gets_a_placeholder(
    app, accounts, monkeypatch, caplog
):
    built = []
    monkeypatch.setattr(mail.SinkEmailBackend, "send_messages",
                        lambda self, messages: built.extend(m.to for m in messages))
    client = fresh_client(app)
    with caplog.at_level(logging.ERROR):
        response = post(client, "/confirm", email="x@example.org\r\nBcc: many@example.org")
    assert response.status_code == 200
    assert built == [["nobody@example.invalid"]]
    assert not caplog.records


def test_nothing_is_evened_out_for_a_refused_request(app, accounts, work):
    client = fresh_client(app)
    for i in range(5):  # the reset limit per IP
        post(client, "/reset", email=f"n{i}@example.org")
    work.take()
    refused = post(client, "/reset", email=UNKNOWN)
    assert refused.status_code == 429
    steps = work.take()
    assert not {"mail", "token digest", "password hash"} & {step[0] for step in steps}
    no_csrf = client.post("/confirm", data={"email": UNKNOWN})
    assert no_csrf.status_code == 400
    assert not work.take()


def test_a_failure_while_evening_out_is_logged_and_the_answer_unchanged(
    app, accounts, monkeypatch, caplog
):
    from diary.security import enumeration

    client = fresh_client(app)
    before = post(client, "/reset", email=UNKNOWN)

    def broken(_user):
        raise RuntimeError("token trouble")

    monkeypatch.setattr(enumeration, "generate_reset_link", broken)
    with caplog.at_level(logging.ERROR):
        after = post(client, "/reset", email=UNKNOWN)
    assert answer(after, UNKNOWN) == answer(before, UNKNOWN)
    assert "Could not even out the work of security.forgot_password" in caplog.text


def test_a_reset_request_that_mails_nothing_is_recorded_without_a_user(app, accounts):
    post(fresh_client(app), "/reset", email=UNKNOWN)
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent))
        assert (event.tag, event.user_id, event.ip, event.user_agent, event.details) == (
            "account:password:reset_request", None, "203.0.113.7", UA, {"mailed": False})


# --- Registering a known address --------------------------------------------------


def test_registering_a_known_address_mails_its_owner_a_reset_link_that_works(app, accounts):
    client = fresh_client(app)
    register(client, KNOWN)
    [notice] = sent_mails(app)
    assert notice.to == [KNOWN] and "already has an account" in notice.body
    link = mail_link(notice, "/reset/")
    assert client.get(link_path(link)).status_code == 200
    reset = client.post(link_path(link), data={
        "password": NEW_PASSPHRASE, "password_confirm": NEW_PASSPHRASE,
        "csrf_token": csrf_token(client, "/reset")})
    assert reset.status_code == 302 and reset.headers["Location"] == "/login"
    signed_in = post(client, "/login", email=KNOWN, password=NEW_PASSPHRASE)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"


def registered_again_events(app):
    with app.app_context():
        query = sa.select(AuditEvent).where(AuditEvent.tag == "account:register:existing")
        return [
            (e.user_id, e.ip, e.user_agent, e.details)
            for e in db.session.scalars(query.order_by(AuditEvent.id))
        ]


def user_id(app, email):
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def test_registering_a_known_address_is_recorded_on_the_account(app, accounts, auth):
    register(fresh_client(app), KNOWN)
    assert registered_again_events(app) == [
        (user_id(app, KNOWN), "203.0.113.7", UA, {"mailed": True})]
    auth.login(KNOWN, PASSPHRASE)
    page = auth.client.get("/account/activity").get_data(as_text=True)
    assert "Someone tried to create an account with this address" in page


def test_registration_mails_no_more_reset_links_than_the_limit_per_address(app, accounts, auth):
    # Three reset requests for the address, each from its own IP: the per-address
    # limit (3 per hour) is used up.
    for i in range(3):
        assert post(fresh_client(app, f"198.51.100.{i}"), "/reset", email=KNOWN).status_code == 200
    assert len(sent_mails(app)) == 3
    # Registering it from yet another IP answers as always but mails nothing.
    client = fresh_client(app, "198.51.100.50")
    new = register(client, FRESH)
    known = register(client, KNOWN)
    assert answer(known, KNOWN) == answer(new, FRESH)
    assert [m.to for m in sent_mails(app)[3:]] == [[FRESH]]
    assert registered_again_events(app) == [
        (user_id(app, KNOWN), "198.51.100.50", UA, {"mailed": False})]
    auth.login(KNOWN, PASSPHRASE)
    page = auth.client.get("/account/activity").get_data(as_text=True)
    assert "(no mail sent: too many requests)" in page


def test_registration_mails_no_more_reset_links_than_the_limit_per_ip(app, accounts):
    client = fresh_client(app)
    for i in range(5):  # the reset limit per IP: 5 per hour, each for another address
        assert post(client, "/reset", email=f"n{i}@example.org").status_code == 200
    new = register(client, FRESH)
    known = register(client, KNOWN)
    assert answer(known, KNOWN) == answer(new, FRESH)
    assert [m.to for m in sent_mails(app)] == [[FRESH]]
    assert registered_again_events(app)[0][3] == {"mailed": False}


def test_registrations_of_a_known_address_are_limited_like_reset_requests(app, accounts):
    # Each from its own IP (registrations are limited per IP on their own).
    for i in range(4):
        register(fresh_client(app, f"198.51.100.{i}"), KNOWN)
    assert [m.to for m in sent_mails(app)] == [[KNOWN]] * 3
    assert [e[3] for e in registered_again_events(app)] == [{"mailed": True}] * 3 + [
        {"mailed": False}]


def test_reset_limits_do_not_tell_a_new_registration_from_a_known_one(app, accounts):
    """Both count toward the reset limits, or /reset would show afterwards which
    registration found an account."""

    def resets_left(email, ip):
        client = fresh_client(app, ip)
        register(client, email)
        statuses = [post(fresh_client(app, f"{ip}{i}"), "/reset", email=email).status_code
                    for i in range(3)]
        ip_statuses = [post(client, "/reset", email=f"x{i}@example.org").status_code
                       for i in range(5)]
        return statuses.count(200), ip_statuses.count(200)

    assert resets_left(FRESH, "198.51.100.1") == resets_left(KNOWN, "198.51.100.2") == (2, 4)
