"""The request pipeline: which endpoints take which credentials, and every request
hook of the app in the order it runs.

Extensions register hooks of their own when they are bound to the app
(Flask-Talisman, Flask-WTF's CSRF check, Flask-Limiter, Flask-Principal,
Flask-Login). :func:`install` puts Diary's hooks and theirs into the one order
written below, by name for theirs, and refuses to start if a hook is registered
that this module does not list, or one it lists is missing: the order is code,
checked at every start, not a comment about registration order.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request

from diary.services.credentials import Kind

# --- Which credentials each endpoint takes ----------------------------------------
#
# Pages take the browser's session, and "remember me" where the session has ended;
# never a token (a token in a page's query string would end up in logs, histories
# and Referer headers). The JSON API takes a personal access token or an auth token
# in a header, or the session (with X-CSRFToken on unsafe methods). The refresh
# token is a credential of one endpoint only, checked by its form
# (diary.security.forms.DiaryRefreshTokenForm) through the same policy.

PAGES = frozenset({Kind.SESSION, Kind.REMEMBER_ME})
API = frozenset({Kind.SESSION, Kind.AUTH_TOKEN, Kind.PERSONAL_ACCESS_TOKEN})
NOTHING: frozenset[Kind] = frozenset()

CREDENTIALS_BY_BLUEPRINT: dict[str, frozenset[Kind]] = {
    "api_v1": API,
    # The admin console is pages: the session only, never a token.
    "admin": PAGES,
    # /healthz and /readyz: the same answer for everybody, nobody is looked up.
    "health": NOTHING,
}
CREDENTIALS_BY_ENDPOINT: dict[str, frozenset[Kind]] = {
    # The same files for everybody: nobody is looked up.
    "static": NOTHING,
    "security.refresh_token": frozenset({Kind.REFRESH_TOKEN}),
}


def credentials_for(endpoint: str | None, blueprint: str | None) -> frozenset[Kind]:
    """Return the credentials a request to ``endpoint`` (of ``blueprint``) takes."""
    from diary.api import in_api

    if endpoint in CREDENTIALS_BY_ENDPOINT:
        return CREDENTIALS_BY_ENDPOINT[endpoint]
    if blueprint in CREDENTIALS_BY_BLUEPRINT:
        return CREDENTIALS_BY_BLUEPRINT[blueprint]
    if endpoint is None and in_api():
        return NOTHING  # an unrouted /api/v1 path: answered 404 without a user
    return PAGES


def identify():
    """Resolve this request's identity from the credentials its endpoint takes."""
    from diary.security import identity

    accepted = credentials_for(request.endpoint, request.blueprint)
    if accepted - {Kind.REFRESH_TOKEN}:
        identity.resolve(accepted)
    return None


# --- The hooks, in the order they run --------------------------------------------
#
# A string names an extension's hook as "module:qualified name"; a function is
# Diary's own. Before-request hooks run top to bottom; the first to answer ends
# the request.


def _before_request() -> list[str | Callable]:
    from diary import api, database, logs
    from diary.security import body_limit, link_pages, links, mfa_guards, ratelimits, wiring

    return [
        # The request's id and start time, before anything can answer or log.
        logs.start_request,
        # Plain HTTP is redirected to HTTPS before anything else looks at it.
        "flask_talisman.talisman:Talisman._force_https",
        # Bodies over the limit are refused before anything reads them.
        body_limit.limit_body,
        # Unknown paths under /api/v1 get the API's 404/405, not a page.
        api.answer_unrouted_api_request,
        # Pages that only read run without a transaction: decided before the
        # first statement.
        database.autocommit_reads,
        # Forms without the session's CSRF token are refused before any work.
        "flask_wtf.csrf:CSRFProtect.init_app.<locals>.csrf_protect",
        # Who is this? The one path for every credential.
        identify,
        # Flask-Principal's identity, from the user found above.
        "flask_principal:Principal._on_before_request",
        # Rate limits: Flask-Limiter's own, then the named sign-in limits.
        "flask_limiter._extension:Limiter._check_request_limit",
        ratelimits.check_limits,
        mfa_guards.limit_second_factor,
        mfa_guards.require_rp_host,
        mfa_guards.show_codes_once,
        wiring.drop_offsite_next,
        links.pin_external_urls,
        link_pages.ask_before_acting,
        "flask_talisman.talisman:Talisman._make_nonce",
    ]


def _after_request() -> list[str | Callable]:
    """In the order they run (Flask runs the registered list backwards)."""
    from diary import logs
    from diary.security import enumeration, headers, identity, mfa_guards

    return [
        # The same work for known and unknown addresses, after the library's views.
        enumeration.even_out,
        identity.write_remember_cookie,
        headers.no_store_when_private,
        # After the general rule: pages that show a secret get "no-store" alone.
        mfa_guards.no_store_secrets,
        "flask_talisman.talisman:Talisman._set_response_headers",
        "flask_limiter._extension:Limiter.__inject_headers",
        "flask_login.login_manager:LoginManager._update_remember_cookie",
        # Last: X-Request-ID on every answer, and the access record of the final status.
        logs.log_request,
    ]


def hook_name(func: Callable) -> str:
    """Return ``module:qualified name`` of a hook (bound methods and partials too)."""
    inner = getattr(func, "func", func)  # functools.partial
    inner = getattr(inner, "__func__", inner)  # bound method
    return f"{inner.__module__}:{inner.__qualname__}"


def install(app: Flask) -> None:
    """Put every app-wide request hook of ``app`` in the order above.

    Call once, after every extension is bound.

    :raises RuntimeError: a hook is registered that the lists do not name, or a
        listed extension hook is missing.
    """
    app.before_request_funcs[None] = _ordered(
        "before_request", app.before_request_funcs.get(None, []), _before_request()
    )
    # Flask runs after_request functions last-registered first.
    app.after_request_funcs[None] = list(
        reversed(_ordered("after_request", app.after_request_funcs.get(None, []), _after_request()))
    )


def _ordered(kind: str, registered: list[Callable], wanted: list[str | Callable]) -> list:
    by_name = {hook_name(func): func for func in registered}
    ours = {hook_name(item) for item in wanted if callable(item)}
    named = {item for item in wanted if isinstance(item, str)}
    unknown = set(by_name) - named - ours
    if unknown:
        raise RuntimeError(f"{kind} hooks not in diary.pipeline: {sorted(unknown)}")
    missing = named - set(by_name)
    if missing:
        raise RuntimeError(f"{kind} hooks listed in diary.pipeline but not registered: {sorted(missing)}")
    return [by_name[item] if isinstance(item, str) else item for item in wanted]


def hook_names(app: Flask) -> dict[str, list[str]]:
    """Return the names of ``app``'s hooks in the order they run (for tests and
    the session note)."""
    return {
        "before_request": [hook_name(f) for f in app.before_request_funcs.get(None, [])],
        "after_request": [
            hook_name(f) for f in reversed(app.after_request_funcs.get(None, []))
        ],
    }
