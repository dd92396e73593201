"""Flask-Security's mail utility for Diary: an email check that works offline, and
sending through :func:`diary.mail.deliver` (a background thread, a sink for
stand-in and withheld mails)."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import email_validator
from flask import current_app, g
from flask_security import MailUtil
from flask_security.mail_util import EmailValidateException
from flask_security.utils import get_message

from diary import mail

# Context key that marks a stand-in mail: rendered and built like the real one,
# handed to the sink (see diary.security.enumeration).
STAND_IN = "diary_stand_in"
# Where this request's mails and withheld mails are noted (flask.g).
_MAILS = "diary_mails"
_WITHHELD = "diary_withheld_mails"


@dataclass(frozen=True)
class MailNote:
    """One mail a request handed over: its template, the kinds of link token it
    carried (``"reset"``, ``"confirm"``) and whether it went to the sink."""

    template: str
    tokens: frozenset[str]
    sink: bool


class DiaryMailUtil(MailUtil):
    """Flask-Security's mail utility with an email check that works offline, whose
    mails go through :func:`diary.mail.deliver`.

    The library's ``validate`` passes ``SECURITY_EMAIL_VALIDATOR_ARGS`` to
    ``email_validator``, which looks the domain up in DNS unless told not to, and so
    refuses every address on a machine without DNS. Its ``normalize`` also switches
    ``check_deliverability`` off inside that shared dict, so the setting cannot be
    trusted to stay as configured. Here the DNS lookup is decided on each call by
    Diary's own setting ``EMAIL_CHECK_DELIVERABILITY`` (default off: syntax only).

    The library renders each mail and calls :meth:`send_mail`; the library's own
    version sends it there and then, in the request. Diary's builds the same
    message and hands it to :func:`diary.mail.deliver`, which sends it from a
    background thread: an answer never waits for the mail server, nor shows by its
    time (or by an error) whether a mail went out. A stand-in mail, or a mail this
    request withheld (:func:`withhold`), is built the same and goes to the sink.
    """

    def validate(self, email: str) -> str:
        """Return the normalized ``email``.

        :raises ValueError: (``EmailValidateException``) if it is not a valid address.
        """
        args = dict(current_app.config.get("SECURITY_EMAIL_VALIDATOR_ARGS") or {})
        args["check_deliverability"] = bool(
            current_app.config.get("EMAIL_CHECK_DELIVERABILITY")
        )
        try:
            return email_validator.validate_email(email, **args).normalized
        except ValueError:
            raise EmailValidateException(get_message("INVALID_EMAIL_ADDRESS")[0])

    def send_mail(
        self,
        template: str,
        subject: str,
        recipient: str | tuple[str, str],
        sender: str | tuple[str, str],
        body: str | None,
        html: str | None,
        **kwargs: t.Any,
    ) -> None:
        """Build the rendered mail and hand it to :func:`diary.mail.deliver`.

        :param template: the template's name, which says what the mail is for.
        :param kwargs: the template's context; ``diary_stand_in=True`` marks a
            stand-in mail.
        """
        from flask_mailman import EmailMultiAlternatives

        # Flask-Mailman wants the sender as one string, as the library's own does.
        if isinstance(sender, tuple) and len(sender) == 2:
            sender = f"{sender[0]} <{sender[1]}>"
        message = EmailMultiAlternatives(
            str(subject), body=body, from_email=str(sender), to=[recipient]
        )
        if html:
            message.attach_alternative(html, "text/html")
        sink = bool(kwargs.get(STAND_IN)) or _is_withheld(template, recipient)
        tokens = frozenset(
            kind for kind, key in (("reset", "reset_token"), ("confirm", "confirmation_token"))
            if kwargs.get(key)
        )
        g.setdefault(_MAILS, []).append(MailNote(template, tokens, sink))
        mail.deliver(current_app._get_current_object(), message, sink=sink)


def withhold(template: str, recipient: str) -> None:
    """Send this request's mail of ``template`` to ``recipient`` to the sink: it is
    still rendered and built, so the request costs the same, but nobody gets it."""
    g.setdefault(_WITHHELD, set()).add((template, recipient.casefold()))


def mails_of_this_request() -> list[MailNote]:
    """Return the mails handed over so far in this request (or app context)."""
    return list(g.get(_MAILS, ()))


def _is_withheld(template: str, recipient) -> bool:
    address = recipient[1] if isinstance(recipient, tuple) else recipient
    return (template, str(address).casefold()) in g.get(_WITHHELD, ())
