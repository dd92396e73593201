"""Absolute links in mails come from ``BASE_URL``, never from the request's Host.

Flask-Security builds the links it mails (confirm, reset, change email) with
``url_for(..., _external=True)``, which takes scheme and host from the request.
The Host header is chosen by the client: an attacker who asks for a reset of the
victim's account with ``Host: evil.example`` would otherwise get the victim a real
reset token on a link to the attacker's server ("password reset poisoning").

Flask gives no setting that fixes this inside a request: ``SERVER_NAME`` changes
the host only, keeps the request's scheme (a TLS-terminating proxy without
ProxyFix would turn the link into plain ``http://``), and makes the test client and
every browser test talk to that name. So before each request to Flask-Security's
views, the request's URL adapter (already used for routing, from then on only for
building URLs) is told the scheme, host and path prefix of ``BASE_URL``. Relative
URLs are unchanged; absolute ones, and so every mailed link, read ``BASE_URL``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask.globals import request_ctx


# Diary's own routes to Flask-Security views (see diary.security.link_pages).
PINNED_ENDPOINTS = frozenset({"change_email_confirm_post"})


def init_app(app: Flask) -> None:
    """Pin absolute URLs built in Flask-Security's requests to ``BASE_URL``.

    :raises ValueError: if ``BASE_URL`` is not an absolute http(s) URL, so the app
        does not start with a setting that would break every mailed link.
    """
    scheme, _netloc, _path = base_url_parts(app.config["BASE_URL"])
    if app.config.get("HTTPS") and scheme != "https":
        app.logger.warning(
            "HTTPS is on but BASE_URL (%s) is http://: mailed links would send their "
            "tokens unencrypted. Set DIARY_BASE_URL=https://...", app.config["BASE_URL"])


def pin_external_urls() -> None:
    """Make ``url_for(_external=True)`` in this request use ``BASE_URL``.

    Only Flask-Security's views send mails with links, so only their requests
    are pinned; Diary's own pages build no absolute URLs.

    :raises ValueError: if ``BASE_URL`` is not an absolute http(s) URL.
    """
    if request.blueprint != current_app.config["SECURITY_BLUEPRINT_NAME"] and (
        request.endpoint not in PINNED_ENDPOINTS
    ):
        return None
    adapter = request_ctx.url_adapter
    if adapter is None:  # routing failed; nothing will be built
        return None
    scheme, netloc, path = base_url_parts(current_app.config["BASE_URL"])
    adapter.url_scheme = scheme
    adapter.server_name = netloc
    if path:
        adapter.script_name = path + "/"  # MapAdapter keeps it with a trailing slash
    return None


def base_url_parts(base_url: str) -> tuple[str, str, str]:
    """Return ``(scheme, host[:port], path prefix without trailing slash)``.

    :raises ValueError: unless ``base_url`` is an absolute http(s) URL.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"BASE_URL must be an absolute http(s) URL, not {base_url!r}")
    return parts.scheme, parts.netloc.lower(), parts.path.rstrip("/")
