"""Mailed links that change an account ask for a click before they act.

Flask-Security 5.9 confirms an address (``/confirm/<token>``) and an email change
(``/change-email/<token>``) on the GET of the mailed link. Mail scanners and link
previews fetch such links on their own, so an account registered with somebody
else's address, or moved to it, could be confirmed without that person ever
agreeing: the very thing confirmation is meant to prove. (django-allauth confirms
by POST for this reason.) Diary keeps the library's views and tokens and only
puts a page in front of them: the GET shows a button, the button POSTs (with its
CSRF token) to the same URL, and the library's view does the rest.

The confirmation view already accepts POST. The change-email view is routed for
GET only, so its POST route here calls the library's own view function.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_security.change_email import change_email_confirm

# endpoint -> what the page asks the visitor to confirm
PAGES = {
    "security.confirm_email": "Confirm your email address",
    "security.change_email_confirm": "Confirm your new email address",
}
CHANGE_EMAIL_POST_ENDPOINT = "change_email_confirm_post"


def init_app(app: Flask) -> None:
    """Show a confirm button on the GET of mailed confirmation links."""
    if app.config.get("SECURITY_CHANGE_EMAIL"):
        url = app.config["SECURITY_CHANGE_EMAIL_URL"].rstrip("/") + "/<token>"
        app.add_url_rule(url, CHANGE_EMAIL_POST_ENDPOINT, change_email_confirm,
                         methods=["POST"])


def ask_before_acting():
    """Return the confirm page instead of running a confirming view on GET/HEAD;
    ``None`` (go on) for every other request."""
    heading = PAGES.get(request.endpoint or "")
    if heading is None or request.method not in ("GET", "HEAD"):
        return None
    return render_template("security/confirm_link.html", heading=heading)
