"""The diary pages people use in a browser."""

from flask import Blueprint

bp = Blueprint("web", __name__)


@bp.record_once
def _template_globals(state) -> None:
    """Let templates name permissions as ``perm.ENTRY_CREATE``: one place for names."""
    from diary import permissions

    from diary.security.identity import may

    state.app.jinja_env.globals["perm"] = permissions
    # may(perm.X): whether this request's identity holds a permission (the same set
    # the services check), for showing only the links and buttons that work.
    state.app.jinja_env.globals["may"] = may


from diary.web import account, archive, factors, filters, tokens, transfer, urls, views  # noqa: E402,F401  (routes register on import)
