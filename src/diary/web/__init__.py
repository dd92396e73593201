"""The diary pages people use in a browser."""

from flask import Blueprint

bp = Blueprint("web", __name__)


@bp.record_once
def _template_globals(state) -> None:
    """Let templates name permissions as ``perm.ENTRY_CREATE``: one place for names."""
    from diary import permissions

    state.app.jinja_env.globals["perm"] = permissions


from diary.web import account, factors, filters, tokens, urls, views  # noqa: E402,F401  (routes register on import)
