"""diary.unavailable: how a failure of a service is told in the log."""

from __future__ import annotations

from diary import unavailable


def test_one_line_keeps_the_first_line_and_the_class():
    assert unavailable.one_line(ValueError("first\nSQL: SELECT secret")) == "ValueError: first"


def test_one_line_reads_the_drivers_message_where_sqlalchemy_wraps_one():
    wrapped = ValueError("(driver) refused\n[SQL: SELECT secret]")
    wrapped.orig = RuntimeError("connection refused\nis the server running?")
    assert unavailable.one_line(wrapped) == "ValueError: connection refused"
    assert unavailable.one_line(ValueError("x" * 300)) == "ValueError: " + "x" * 200
