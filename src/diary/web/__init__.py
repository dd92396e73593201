"""The diary pages people use in a browser."""

from flask import Blueprint

bp = Blueprint("web", __name__)

from diary.web import account, factors, filters, tokens, views  # noqa: E402,F401  (routes register on import)
