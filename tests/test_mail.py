"""diary.mail: MAIL_URL parsing, backend choice and the .eml file fallback."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import stat

import pytest
from flask import Config

from diary import create_app, mail
from tests.conftest import app_on_test_database, base_config, csrf_token


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", {
            "MAIL_SERVER": "mail.example.org", "MAIL_PORT": 25, "MAIL_USERNAME": None,
            "MAIL_PASSWORD": None, "MAIL_USE_TLS": False, "MAIL_USE_SSL": False}),
        ("smtp://user:secret@mail.example.org:587?starttls=1", {
            "MAIL_SERVER": "mail.example.org", "MAIL_PORT": 587, "MAIL_USERNAME": "user",
            "MAIL_PASSWORD": "secret", "MAIL_USE_TLS": True, "MAIL_USE_SSL": False}),
        ("smtp://u@mail.example.org?starttls=true", {
            "MAIL_SERVER": "mail.example.org", "MAIL_PORT": 587, "MAIL_USERNAME": "u",
            "MAIL_PASSWORD": None, "MAIL_USE_TLS": True, "MAIL_USE_SSL": False}),
        ("smtps://me%40example.org:p%40ss%3Aw%2Frd@smtp.example.org", {
            "MAIL_SERVER": "smtp.example.org", "MAIL_PORT": 465,
            "MAIL_USERNAME": "me@example.org", "MAIL_PASSWORD": "p@ss:w/rd",
            "MAIL_USE_TLS": False, "MAIL_USE_SSL": True}),
        ("SMTPS://smtp.example.org:2465?timeout=3", {
            "MAIL_SERVER": "smtp.example.org", "MAIL_PORT": 2465, "MAIL_USERNAME": None,
            "MAIL_PASSWORD": None, "MAIL_USE_TLS": False, "MAIL_USE_SSL": True,
            "MAIL_TIMEOUT": 3.0}),
    ],
)
def test_parse_mail_url(url, expected):
    assert mail.parse_mail_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.org",
        "mail.example.org:25",
        "smtp://",
        "smtp://mail.example.org:notaport",
        "smtp://mail.example.org:70000",
        "smtps://mail.example.org?starttls=1",
        "smtp://mail.example.org?timeout=soon",
    ],
)
def test_parse_mail_url_refuses_what_it_cannot_use(url):
    with pytest.raises(ValueError):
        mail.parse_mail_url(url)


def test_configure_picks_smtp_with_a_url_and_eml_files_without(tmp_path):
    with_url = Config(str(tmp_path), {"MAIL_URL": "smtp://mx.example.org", "MAIL_BACKEND": ""})
    mail.configure(with_url, str(tmp_path))
    assert with_url["MAIL_BACKEND"] == "smtp"
    assert with_url["MAIL_SERVER"] == "mx.example.org"

    without = Config(str(tmp_path), {"MAIL_URL": "", "MAIL_BACKEND": "", "MAIL_FILE_PATH": ""})
    mail.configure(without, str(tmp_path))
    assert without["MAIL_BACKEND"] == mail.EML_BACKEND
    assert without["MAIL_FILE_PATH"] == os.path.join(str(tmp_path), "mail")

    explicit = Config(str(tmp_path), {"MAIL_URL": "smtp://mx.example.org", "MAIL_BACKEND": "locmem"})
    mail.configure(explicit, str(tmp_path))
    assert explicit["MAIL_BACKEND"] == "locmem"


def test_a_bad_mail_url_stops_the_app_at_start(database_url, tmp_path):
    config = base_config(database_url, str(tmp_path / "instance"))
    config["MAIL_URL"] = "imap://mail.example.org"
    with pytest.raises(ValueError, match="smtp://"):
        create_app(config)


def test_links_in():
    text = "Open https://d.example/reset/abc.def-1 now, or http://x.example/c?x=1&y=2.\n" \
           "<a href=\"https://d.example/reset/abc.def-1\">again</a>"
    assert mail.links_in(text) == [
        "https://d.example/reset/abc.def-1", "http://x.example/c?x=1&y=2"]
    assert mail.links_in(None) == []


@pytest.fixture
def eml_app(database_url, tmp_path):
    """An app with no MAIL_URL and no MAIL_BACKEND: the quick-start setup."""
    with app_on_test_database(
        database_url, tmp_path, MAIL_BACKEND="", MAIL_FILE_PATH=str(tmp_path / "mail")
    ) as app:
        yield app


def test_without_mail_url_each_mail_is_an_eml_file_with_both_parts_and_links_logged(
    eml_app, tmp_path, caplog
):
    client = eml_app.test_client()
    caplog.set_level(logging.INFO, logger="diary.mail")
    client.post("/register", data={
        "email": "quick@example.org", "password": "lantern orbit quietly mango",
        "password_confirm": "lantern orbit quietly mango",
        "csrf_token": csrf_token(client, "/register")})

    [path] = list((tmp_path / "mail").iterdir())
    assert path.suffix == ".eml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # holds a live link
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "quick@example.org"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    [link] = mail.links_in(text)
    assert link.startswith("http://localhost/confirm/") and link in html

    [record] = [r for r in caplog.records if r.name == "diary.mail"]
    assert record.levelno == logging.INFO
    assert link in record.getMessage() and str(path) in record.getMessage()


def test_eml_backend_writes_one_file_per_message(eml_app, tmp_path):
    from flask_mailman import EmailMultiAlternatives

    with eml_app.app_context():
        connection = eml_app.extensions["mailman"].get_connection()
        messages = [
            EmailMultiAlternatives(f"n{i}", "body http://a.example/x", "a@b.c", ["d@e.f"],
                                   connection=connection)
            for i in range(3)
        ]
        assert connection.send_messages(messages) == 3
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 3


def test_eml_backend_raises_when_it_cannot_write(eml_app, tmp_path):
    from flask_mailman import EmailMessage

    (tmp_path / "blocked").write_text("a file, not a folder")
    with eml_app.app_context():
        backend = mail.EmlFileEmailBackend(
            mailman=eml_app.extensions["mailman"], file_path=str(tmp_path / "blocked"))
        message = EmailMessage("s", "b", "a@b.c", ["d@e.f"])
        with pytest.raises(OSError):
            backend.send_messages([message])
        quiet = mail.EmlFileEmailBackend(
            mailman=eml_app.extensions["mailman"], file_path=str(tmp_path / "blocked"),
            fail_silently=True)
        assert quiet.send_messages([message]) == 0


def test_init_logging_shows_info_but_respects_a_configured_level():
    logger = logging.getLogger("diary.mail")
    saved = logger.level, list(logger.handlers)
    try:
        logger.setLevel(logging.NOTSET)
        mail.init_logging()
        assert logger.getEffectiveLevel() == logging.INFO
        logger.setLevel(logging.WARNING)
        mail.init_logging()
        assert logger.level == logging.WARNING
    finally:
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]


# --- The sink and the background thread -------------------------------------------


def a_message(subject="Hello", to="d@e.f"):
    from flask_mailman import EmailMultiAlternatives

    message = EmailMultiAlternatives(subject, "body http://a.example/x", "a@b.c", [to])
    message.attach_alternative("<p>body</p>", "text/html")
    return message


def test_mail_goes_out_from_the_background_thread_by_default():
    from diary.config import Defaults

    assert Defaults.MAIL_IN_BACKGROUND is True


def test_the_sink_builds_each_message_and_sends_it_nowhere(app, monkeypatch):
    built = []
    real_message = type(a_message()).message

    def message(self):
        built.append(self.subject)
        return real_message(self)

    monkeypatch.setattr(type(a_message()), "message", message)
    with app.app_context():
        sink = mail.SinkEmailBackend()
        assert sink.send_messages([a_message("one"), a_message("two")]) == 2
        mail.deliver(app, a_message("three"), sink=True)
    assert built == ["one", "two", "three"]
    assert getattr(app.extensions["mailman"], "outbox", []) == []


@pytest.fixture
def background_app(database_url, tmp_path):
    """An app that sends from the background thread, into the locmem outbox."""
    with app_on_test_database(database_url, tmp_path, MAIL_IN_BACKGROUND=True) as app:
        app.extensions["mailman"].outbox = []
        yield app
        assert mail.background.flush(10)


def test_background_mails_leave_in_order_from_the_mail_thread(background_app, monkeypatch):
    import threading

    threads = []
    real_send_now = mail.send_now

    def send_now(app, message, sink=False):
        threads.append(threading.current_thread().name)
        real_send_now(app, message, sink)

    monkeypatch.setattr(mail, "send_now", send_now)
    with background_app.app_context():
        for i in range(5):
            mail.deliver(background_app, a_message(f"n{i}"))
    assert mail.background.flush(10)
    outbox = background_app.extensions["mailman"].outbox
    assert [m.subject for m in outbox] == [f"n{i}" for i in range(5)]
    assert len(threads) == 5 and all(t.startswith("diary-mail") for t in threads)


def test_a_reset_mail_sent_in_the_background_arrives(background_app, demo_users):
    client = background_app.test_client()
    response = client.post("/reset", data={
        "email": "writer@example.com", "csrf_token": csrf_token(client, "/reset")})
    assert response.status_code == 200
    assert mail.background.flush(10)
    [reset] = background_app.extensions["mailman"].outbox
    assert reset.to == ["writer@example.com"] and "/reset/" in reset.body


@pytest.mark.parametrize("background", [True, False], ids=["background", "in the request"])
def test_a_mail_that_cannot_be_sent_is_logged_and_the_next_one_still_goes(
    database_url, tmp_path, monkeypatch, caplog, background
):
    from flask_mailman.backends import locmem

    real_send = locmem.EmailBackend.send_messages

    def send_messages(self, messages):
        if any(m.subject == "broken" for m in messages):
            raise ConnectionRefusedError("no mail server")
        return real_send(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", send_messages)
    with app_on_test_database(
        database_url, tmp_path, MAIL_IN_BACKGROUND=background
    ) as app, caplog.at_level(logging.ERROR, logger="diary.mail"):
        app.extensions["mailman"].outbox = []
        with app.app_context():
            mail.deliver(app, a_message("broken", to="owner@example.org"))  # no raise
            mail.deliver(app, a_message("fine"))
        assert mail.background.flush(10)
        assert [m.subject for m in app.extensions["mailman"].outbox] == ["fine"]
    [record] = [r for r in caplog.records if r.name == "diary.mail"]
    assert record.getMessage() == "Mail to owner@example.org, 'broken', could not be sent"
    assert record.exc_info[0] is ConnectionRefusedError


EXIT_SCRIPT = """
import sys, time
from flask_mailman import EmailMessage
from diary import create_app, mail

real_write = mail.EmlFileEmailBackend._write

def slow_write(self, message):
    time.sleep(0.05)  # still sending when the main thread is done
    return real_write(self, message)

mail.EmlFileEmailBackend._write = slow_write
app = create_app({
    "SECRET_KEY": "k", "SECURITY_PASSWORD_SALT": "s", "INSTANCE_PATH": sys.argv[1],
    "MAIL_BACKEND": "", "MAIL_FILE_PATH": sys.argv[2], "MAIL_IN_BACKGROUND": True,
})
with app.app_context():
    for i in range(20):
        mail.deliver(app, EmailMessage(f"n{i}", "body", "a@b.c", ["d@e.f"]))
"""


def test_mails_still_queued_when_the_process_ends_are_sent_first(tmp_path):
    import subprocess
    import sys

    mail_dir = tmp_path / "mail"
    result = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, str(tmp_path / "instance"), str(mail_dir)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert len(list(mail_dir.glob("*.eml"))) == 20


def _send_from_a_forked_process(app):
    import os

    with app.app_context():
        mail.deliver(app, a_message("from the child"))
    ok = mail.background.flush(10)
    os._exit(0 if ok else 1)


def test_a_forked_process_sends_with_a_mail_thread_of_its_own(database_url, tmp_path):
    """gunicorn forks its workers; one that inherits the parent's (threadless)
    executor must start its own thread rather than queue mail nobody sends."""
    import multiprocessing

    with app_on_test_database(
        database_url, tmp_path, MAIL_IN_BACKGROUND=True, MAIL_BACKEND="",
        MAIL_FILE_PATH=str(tmp_path / "mail"),
    ) as app:
        with app.app_context():
            mail.deliver(app, a_message("from the parent"))  # the parent's thread
        assert mail.background.flush(10)
        child = multiprocessing.get_context("fork").Process(
            target=_send_from_a_forked_process, args=(app,))
        child.start()
        child.join(30)
        if child.is_alive():
            child.kill()
        assert child.exitcode == 0
    subjects = sorted(
        email.message_from_bytes(p.read_bytes())["Subject"]
        for p in (tmp_path / "mail").glob("*.eml")
    )
    assert subjects == ["from the child", "from the parent"]
