"""The app's own log output, captured: the text its handler (diary.logs) writes,
formatted as in production, instead of stderr."""

from __future__ import annotations

import io
import json
import logging
from contextlib import contextmanager


def diary_handler() -> logging.StreamHandler:
    """Return the handler :func:`diary.logs.init_app` put on the root logger."""
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "diary"]
    return handler


@contextmanager
def captured_log():
    """Yield a StringIO that receives everything the app logs until the block ends."""
    handler = diary_handler()
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def records(text: str) -> list[dict]:
    """Return the JSON records of a captured log, one per line.

    :raises json.JSONDecodeError: if a line is not one JSON object.
    """
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def access_records(text: str) -> list[dict]:
    """Return the access records (one per request) of a captured JSON log."""
    return [r for r in records(text) if r.get("event") == "request"]
