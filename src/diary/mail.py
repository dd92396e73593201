"""Outgoing mail: SMTP from one ``MAIL_URL`` setting, or ``.eml`` files when none is set.

Flask-Mailman sends every mail (Flask-Security hands its mails to it through
:class:`diary.security.mail_util.DiaryMailUtil`). :func:`configure` turns Diary's
settings into Flask-Mailman's ``MAIL_*`` ones before the extension reads them:

- ``MAIL_URL`` set (``smtp://user:pass@host:587?starttls=1``,
  ``smtps://user:pass@host:465``): mails go to that SMTP server.
- ``MAIL_URL`` empty (the quick start): each mail is written as one ``.eml`` file
  under ``MAIL_FILE_PATH`` (default ``<instance>/mail``) and its links are logged,
  so somebody running ``flask run`` without a mail server can still confirm an
  account or reset a password.

:func:`deliver` sends a built message: from a background thread of the process
(``MAIL_IN_BACKGROUND``, the default) or at once. Either way a mail that cannot be
sent is logged, never raised into the request: whether a request mailed something
must not show in its answer or its time (``diary.security.enumeration``).
Stand-in mails and mails a limit holds back go to :class:`SinkEmailBackend`, which
builds them like the other backends and sends them nowhere.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, has_app_context
from flask_mailman.backends.base import BaseEmailBackend

logger = logging.getLogger("diary.mail")

# Our own backend, named the way Flask-Mailman's MAIL_BACKEND setting accepts.
EML_BACKEND = "diary.mail.EmlFileEmailBackend"

_TRUE = {"1", "true", "yes", "on"}
_LINK_RE = re.compile(r"https?://[^\s<>\"']+")


def parse_mail_url(url: str) -> dict:
    """Return Flask-Mailman's settings (``MAIL_SERVER``, ``MAIL_PORT``,
    ``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_USE_TLS``, ``MAIL_USE_SSL``) for
    an SMTP URL.

    ``smtp://`` is plain SMTP (port 25), upgraded with STARTTLS when the query has
    ``starttls=1`` (port 587 then by default); ``smtps://`` is SMTP over TLS (port
    465). User name and password are percent-decoded, so ``%40`` stands for ``@``.
    ``timeout=SECONDS`` in the query sets ``MAIL_TIMEOUT``.

    :raises ValueError: for another scheme, a missing host, a bad port or
        ``starttls`` with ``smtps`` (the connection is already encrypted).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ValueError(f"MAIL_URL must start with smtp:// or smtps://, not {scheme!r}")
    if not parts.hostname:
        raise ValueError("MAIL_URL has no host name")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "").lower() in _TRUE
    ssl = scheme == "smtps"
    if ssl and starttls:
        raise ValueError("MAIL_URL: smtps:// is already encrypted; drop starttls")
    try:
        port = parts.port
    except ValueError as exc:  # a port that is not a number or out of range
        raise ValueError(f"MAIL_URL has a bad port: {exc}") from None
    settings = {
        "MAIL_SERVER": parts.hostname,
        "MAIL_PORT": port or (465 if ssl else 587 if starttls else 25),
        "MAIL_USERNAME": unquote(parts.username) if parts.username else None,
        "MAIL_PASSWORD": unquote(parts.password) if parts.password else None,
        "MAIL_USE_TLS": starttls,
        "MAIL_USE_SSL": ssl,
    }
    if "timeout" in query:
        try:
            settings["MAIL_TIMEOUT"] = float(query["timeout"])
        except ValueError:
            raise ValueError("MAIL_URL: timeout must be a number of seconds") from None
    return settings


def configure(config, instance_path: str) -> None:
    """Derive Flask-Mailman's settings from Diary's (called by ``config.finalize``).

    An explicit ``MAIL_BACKEND`` (tests use ``locmem``) is kept. Otherwise the
    backend is ``smtp`` when ``MAIL_URL`` is set and the ``.eml`` file backend
    when it is not.

    :raises ValueError: if ``MAIL_URL`` is malformed (see :func:`parse_mail_url`),
        so a bad setting stops the app at start rather than losing mail later.
    """
    url = config.get("MAIL_URL") or ""
    if url:
        config.update(parse_mail_url(url))
    if not config.get("MAIL_BACKEND"):
        config["MAIL_BACKEND"] = "smtp" if url else EML_BACKEND
    if not config.get("MAIL_FILE_PATH"):
        config["MAIL_FILE_PATH"] = os.path.join(instance_path, "mail")


def links_in(text: str | None) -> list[str]:
    """Return the http(s) links in ``text``, in order, without duplicates (and
    without a sentence's closing punctuation)."""
    links = (link.rstrip(".,;:!?)") for link in _LINK_RE.findall(text or ""))
    return list(dict.fromkeys(links))


def init_logging() -> None:
    """Make the ``diary.mail`` logger show INFO lines (the links of saved mails).

    Flask's own logger stays quiet below WARNING outside debug mode, so without
    this a quick-start user running ``flask run`` would never see the confirmation
    link. A deployment that configures logging itself keeps its choices: a level or
    handler already set is left alone.
    """
    from flask.logging import default_handler

    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not logger.hasHandlers():
        logger.addHandler(default_handler)


class EmlFileEmailBackend(BaseEmailBackend):
    """Flask-Mailman backend that writes each mail to its own ``.eml`` file.

    Flask-Mailman's ``file`` backend appends every message of a connection to one
    ``.log`` file with separator lines, which no mail program opens; an ``.eml``
    file per message (both parts, headers as sent) opens in any mail reader and
    can be checked by tests. The files hold live confirmation and reset links, so
    they are created readable by their owner only.
    """

    def __init__(self, *args, file_path: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.file_path = os.path.abspath(file_path or self.mailman.file_path)

    def send_messages(self, email_messages) -> int:
        """Write each message to a new file and log where it went and its links.

        :return: the number of messages written.
        :raises OSError: if the folder cannot be created or written (unless the
            connection was opened with ``fail_silently``).
        """
        count = 0
        for message in email_messages:
            try:
                path = self._write(message)
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            count += 1
            logger.info(
                "Mail to %s, %r, saved as %s (no MAIL_URL is set). Links: %s",
                ", ".join(message.recipients()),
                message.subject,
                path,
                _loggable_links(message.body),
            )
        return count

    def _write(self, message) -> str:
        os.makedirs(self.file_path, mode=0o700, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        path = os.path.join(self.file_path, f"{stamp}-{secrets.token_hex(4)}.eml")
        data = message.message().as_bytes(linesep="\r\n")
        # O_EXCL: never write into a file somebody else put there.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return path


def _loggable_links(body: str | None) -> str:
    """Return the links of a saved mail for the log line; with HTTPS on (a real
    site, whose logs may be shipped anywhere) only a note: the links hold live
    tokens and stay in the file (docs/logging.md)."""
    if has_app_context() and current_app.config.get("HTTPS"):
        return "in the file (not logged with HTTPS on)"
    return " ".join(links_in(body)) or "none"


class SinkEmailBackend(BaseEmailBackend):
    """Flask-Mailman backend that builds each message as the file and SMTP backends
    do (MIME parts, headers, bytes) and then drops it.

    For mails that must cost what a real one does but reach nobody: the stand-in
    mails of requests about addresses without an account, and mails a rate limit
    holds back (see ``diary.security.enumeration``).
    """

    def send_messages(self, email_messages) -> int:
        """Build each message and throw it away; return how many were built."""
        count = 0
        for message in email_messages:
            message.message().as_bytes(linesep="\r\n")
            count += 1
        return count


def deliver(app, message, *, sink: bool = False) -> None:
    """Send ``message`` (a Flask-Mailman message without a connection) for ``app``.

    With ``MAIL_IN_BACKGROUND`` (the default) it is queued for this process's mail
    thread and the caller goes on at once; otherwise it is sent now. A failure is
    logged (logger ``diary.mail``) and not raised, in both cases.

    :param sink: build the message but send it nowhere (:class:`SinkEmailBackend`).
    """
    if app.config.get("MAIL_IN_BACKGROUND"):
        try:
            background.submit(app, message, sink)
            return
        except RuntimeError:  # the interpreter is shutting down: no new threads
            pass
    send_now(app, message, sink)


def send_now(app, message, sink: bool = False) -> None:
    """Send ``message`` through ``app``'s mail backend (or the sink) in this thread;
    log a failure instead of raising it."""
    with app.app_context():
        try:
            if sink:
                message.connection = SinkEmailBackend(mailman=app.extensions["mailman"])
            else:
                message.connection = app.extensions["mailman"].get_connection()
            message.send()
        except Exception:
            # Recipient and subject only: the body holds live links.
            logger.exception(
                "Mail to %s, %r, could not be sent",
                ", ".join(message.recipients()), message.subject,
            )


class BackgroundSender:
    """One mail thread per process that sends queued messages in order.

    The thread is made on first use in each process (gunicorn forks its workers
    after loading the app), so every worker sends its own mails. It belongs to a
    ``ThreadPoolExecutor``, whose exit hook (run before the interpreter joins its
    threads) lets it finish every queued mail before the process ends: a worker
    stopped by gunicorn, or a test session ending, loses none.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pid: int | None = None
        self._pending: set[Future] = set()

    def submit(self, app, message, sink: bool = False) -> Future:
        """Queue ``message`` for sending; return its future (it never raises: the
        sending logs failures)."""
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                # A fork copies the executor but not its thread: start afresh.
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="diary-mail")
                self._pid = os.getpid()
                self._pending = set()
            future = self._executor.submit(send_now, app, message, sink)
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every mail queued so far was sent (or failed and was logged);
        return False if some were still queued after ``timeout`` seconds."""
        with self._lock:
            pending = list(self._pending)
        _done, not_done = wait(pending, timeout)
        return not not_done

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)


# The process's mail thread, shared by every app in the process (tests make many).
background = BackgroundSender()
