"""``entry_url(endpoint, entry_id)``: the URL of an entry's page, for entry lists.

A list links each of its entries three times (open, edit, delete), and ``url_for``
(about 4 µs: blueprint, URL defaults, the routing map) for each link was a large
share of rendering a page of 20 entries (bench/dashboard). The entry pages' URLs end
in the entry's id, so each endpoint's URL is built once per request with
``url_for`` and then completed with the id; an endpoint whose URL does not end in
the id falls back to ``url_for`` for every link.
"""

from __future__ import annotations

from flask import g, url_for

from diary.web import bp


@bp.app_template_global("entry_url")
def entry_url(endpoint: str, entry_id: int) -> str:
    """Return ``url_for(endpoint, entry_id=entry_id)``."""
    prefixes: dict[str, str | None] = g.setdefault("_entry_url_prefixes", {})
    if endpoint not in prefixes:
        probe = url_for(endpoint, entry_id=0)
        prefixes[endpoint] = probe[:-1] if probe.endswith("/0") else None
    prefix = prefixes[endpoint]
    if prefix is None:
        return url_for(endpoint, entry_id=entry_id)
    return prefix + str(int(entry_id))
