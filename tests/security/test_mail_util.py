"""diary.security.mail_util: the offline email check, and Flask-Security's mails
handed to diary.mail.deliver (the sink for stand-ins and withheld mails)."""

from __future__ import annotations

import pytest
from flask_security.mail_util import EmailValidateException
from flask_security.utils import send_mail

from diary import mail
from diary.security.mail_util import (
    STAND_IN,
    MailNote,
    mails_of_this_request,
    withhold,
)
from tests.conftest import sent_mails

TEMPLATE = "security/email/reset_notice"  # renders with a user alone


class Someone:
    email = "owner@example.org"
    display_name = "Owner"


@pytest.fixture
def delivered(monkeypatch):
    """The (recipients, subject, sink) of every mail handed to diary.mail.deliver."""
    handed = []
    real_deliver = mail.deliver

    def deliver(app, message, *, sink=False):
        handed.append((message.to, message.subject, sink))
        real_deliver(app, message, sink=sink)

    monkeypatch.setattr(mail, "deliver", deliver)
    return handed


def test_the_email_check_works_offline(app):
    mail_util = app.extensions["security"].mail_util
    with app.app_context():
        assert mail_util.validate("Someone@Example.org") == "Someone@example.org"
        with pytest.raises(EmailValidateException):
            mail_util.validate("not an address")


def test_a_mail_is_built_with_both_parts_and_handed_over(app, delivered):
    with app.test_request_context():
        send_mail("Notice", "owner@example.org", TEMPLATE, user=Someone())
        assert mails_of_this_request() == [MailNote(TEMPLATE, frozenset(), False)]
    assert delivered == [(["owner@example.org"], "Notice", False)]
    [sent] = sent_mails(app)
    assert sent.from_email == app.config["MAIL_DEFAULT_SENDER"]
    assert sent.alternatives[0][1] == "text/html" and sent.body


def test_stand_in_and_withheld_mails_go_to_the_sink(app, delivered):
    with app.test_request_context():
        send_mail("Stand-in", "nobody@example.invalid", TEMPLATE, user=Someone(),
                  **{STAND_IN: True})
        withhold(TEMPLATE, "Owner@Example.org")
        send_mail("Withheld", "OWNER@example.org", TEMPLATE, user=Someone())
        # Another template, or another recipient, is not withheld.
        send_mail("Other", "owner@example.org", "security/email/change_notice",
                  user=Someone())
        send_mail("Someone else", "else@example.org", TEMPLATE, user=Someone())
        assert [note.sink for note in mails_of_this_request()] == [True, True, False, False]
    assert [(subject, sink) for _to, subject, sink in delivered] == [
        ("Stand-in", True), ("Withheld", True), ("Other", False), ("Someone else", False)]
    assert [m.subject for m in sent_mails(app)] == ["Other", "Someone else"]


def test_the_notes_say_which_link_tokens_a_mail_carried(app, delivered):
    with app.test_request_context():
        send_mail("A", "owner@example.org", TEMPLATE, user=Someone(), reset_token="r")
        send_mail("B", "owner@example.org", TEMPLATE, user=Someone(),
                  reset_token="r", confirmation_token="c")
        send_mail("C", "owner@example.org", TEMPLATE, user=Someone(), confirmation_token="")
        assert [note.tokens for note in mails_of_this_request()] == [
            frozenset({"reset"}), frozenset({"reset", "confirm"}), frozenset()]
    with app.test_request_context():
        assert mails_of_this_request() == []  # each request starts afresh
