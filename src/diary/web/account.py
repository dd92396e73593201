"""The user's own account pages under ``/account``.

``/account`` is one page made of sections, each a template of its own under
``templates/account/`` (password and email, sessions, factors, tokens), so each
feature keeps its part of the page next to its code.
"""

from __future__ import annotations

from flask import render_template
from flask_security import auth_required

from diary.web import bp


@bp.get("/account")
@auth_required()
def account():
    """The account overview."""
    return render_template("account/index.html")
