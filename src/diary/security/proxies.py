"""The client's real address behind reverse proxies (``TRUSTED_PROXIES``).

Behind a proxy every request comes from the proxy's address. Werkzeug's ProxyFix
takes the client's address and scheme from ``X-Forwarded-For`` and
``X-Forwarded-Proto`` instead, trusting exactly ``TRUSTED_PROXIES`` hops counted
from the right: each proxy appends what it saw, so the entries further left are
whatever the client sent and are ignored. Rate limits, the audit log, HTTPS
detection (HSTS, redirects) all see the result through ``request.remote_addr`` and
``request.scheme``.

``X-Forwarded-Host``/``-Port``/``-Prefix`` are not trusted: proxies pass the
``Host`` header through unchanged, and links in mails use ``BASE_URL``.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    """Wrap ``app`` in ProxyFix when ``TRUSTED_PROXIES`` is more than 0."""
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops < 0:
        raise ValueError("TRUSTED_PROXIES must be 0 or more")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
