"""Facts about the client of the current request, for the audit log and mails."""

from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context, request


@dataclass(frozen=True)
class ClientInfo:
    """The client's IP address (after ProxyFix) and user agent, if known."""

    ip: str | None = None
    user_agent: str | None = None


def client_info() -> ClientInfo:
    """Return the current request's client, or an empty ClientInfo outside one (CLI)."""
    if not has_request_context():
        return ClientInfo()
    return ClientInfo(request.remote_addr, request.headers.get("User-Agent"))
