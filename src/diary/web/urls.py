"""``entry_url(endpoint, entry_id)``: the URL of an entry's page, for entry lists;
``entry_actions(entry, may_edit, may_delete)``: the links under each entry of a list.

A list links each of its entries three times (open, edit, delete), and ``url_for``
(about 4 µs: blueprint, URL defaults, the routing map) for each link was a large
share of rendering a page of 20 entries (bench/dashboard). The entry pages' URLs end
in the entry's id, so each endpoint's URL is built once per request with
``url_for`` and then completed with the id; an endpoint whose URL does not end in
the id falls back to ``url_for`` for every link.
"""

from __future__ import annotations

from flask import g, url_for
from markupsafe import Markup

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


@bp.app_template_global("entry_actions")
def entry_actions(entry, may_edit: bool = True, may_delete: bool = True) -> Markup:
    """Return the links under an entry of a list: open, and edit and delete where
    the viewer may (the views check again; these only hide what would be refused).

    Delete is a link to the page that asks first (GET /delete_entry/<id>, which
    holds the POST button), so the question is asked with or without script, and a
    list renders no form per entry. Python rather than a Jinja macro: lists render
    it for every entry, and a macro call costs more than the links it builds
    (bench/profile).
    """
    entry_id = entry.id
    links = [f'<a href="{entry_url("web.view_entry", entry_id)}">Open</a>']
    if may_edit:
        links.append(f'<a href="{entry_url("web.edit_entry", entry_id)}">Edit</a>')
    if may_delete:
        links.append(f'<a href="{entry_url("web.delete_entry", entry_id)}">Delete</a>')
    return Markup('<div class="entry-actions">\n  ' + "\n  ".join(links) + "\n</div>")
