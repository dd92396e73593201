"""Pagination cursors made by hand: well-formed, but pointing where no entry can be."""

from __future__ import annotations

import base64


def crafted_cursor(stamp: str, entry_id: str) -> str:
    """Return a cursor as ``encode_cursor`` writes one, around any timestamp and id."""
    raw = f"{stamp}|{entry_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Well-formed cursors that point where no entry can be. The ids made the page and
# the API answer 500 (a query the database refuses: "9"*40 on both databases, 2**31
# on PostgreSQL, whose INTEGER ends below) or 200 (0, -1); the dates that leave the
# calendar once in UTC were refused already and must stay so.
OUT_OF_RANGE_CURSORS = [
    crafted_cursor("2026-01-01T00:00:00+00:00", "9" * 40),
    crafted_cursor("2026-01-01T00:00:00+00:00", str(2**31)),  # PostgreSQL's INTEGER ends below
    crafted_cursor("2026-01-01T00:00:00+00:00", "0"),
    crafted_cursor("2026-01-01T00:00:00+00:00", "-1"),
    crafted_cursor("0001-01-01T00:00:00+01:00", "1"),  # before year 1 in UTC
    crafted_cursor("9999-12-31T23:59:59-01:00", "1"),  # after year 9999 in UTC
]
