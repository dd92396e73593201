"""The marshmallow schemas of the API."""

from __future__ import annotations

import re
from re import _constants as sre, _parser as sre_parse  # CPython's own pattern parser

import pytest
from marshmallow import ValidationError

from diary.api import schemas
from diary.api.schemas import EntryInSchema, EntryListArgsSchema, EntryPatchSchema

# What a Writer once sent to stall a worker for 14 s of CPU: the old pattern
# backtracked over every split of the 65,000 characters before the NUL.
STALLING_CONTENT = "a" * 65000 + "\u0000"


@pytest.fixture(autouse=True)
def app_context(app):
    # The longest entry is a setting (ENTRY_MAX_LENGTH), read from the app.
    with app.app_context():
        yield


@pytest.mark.parametrize("content", ["a", " a ", "\u3000x", "line\nbreak", "\ufeffx"])
def test_content_accepts_text_with_something_in_it(content):
    assert EntryInSchema().load({"content": content}) == {"content": content}


@pytest.mark.parametrize("content", ["", " ", "\n\t", "\x1c", "\u3000", "\ufeff", "a\x00b"])
def test_content_refuses_blank_or_nul(content):
    with pytest.raises(ValidationError) as info:
        EntryInSchema().load({"content": content})
    assert "content" in info.value.messages


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError) as info:
        EntryInSchema().load({"content": "x", "user_id": 2})
    assert "user_id" in info.value.messages


def test_patch_takes_an_aware_expected_updated_at():
    loaded = EntryPatchSchema().load({"content": "x", "expected_updated_at": "2026-01-01T00:00:00+00:00"})
    assert loaded["expected_updated_at"].tzinfo is not None
    with pytest.raises(ValidationError):
        EntryPatchSchema().load({"content": "x", "expected_updated_at": "2026-01-01T00:00:00"})


def test_list_arguments_defaults_and_bounds():
    assert EntryListArgsSchema().load({}) == {
        "limit": None, "cursor": None, "q": None, "user": None, "tag": None,
        "from_": None, "to": None,
    }
    assert EntryListArgsSchema().load({"limit": "100"})["limit"] == 100
    assert EntryListArgsSchema().load({"tag": "#" + "x" * 64})["tag"] == "#" + "x" * 64
    for bad in ({"limit": "0"}, {"limit": "101"}, {"user": "0"}, {"user": str(2**31)}, {"q": "x" * 201},
                {"tag": ""}, {"tag": "x" * 66}):
        with pytest.raises(ValidationError):
            EntryListArgsSchema().load(bad)


def test_list_arguments_take_a_day_range_in_order():
    from datetime import date

    loaded = EntryListArgsSchema().load({"from": "2026-05-01", "to": "2026-05-01"})
    assert (loaded["from_"], loaded["to"]) == (date(2026, 5, 1), date(2026, 5, 1))
    for bad in ({"from": "2026-13-01"}, {"to": "2026-05-32"}, {"from": "yesterday"},
                {"from": "2026-05-01T10:00:00"}):
        with pytest.raises(ValidationError):
            EntryListArgsSchema().load(bad)
    with pytest.raises(ValidationError) as refused:
        EntryListArgsSchema().load({"from": "2026-05-02", "to": "2026-05-01"})
    assert "to" in refused.value.messages


# --- the content pattern runs in linear time -------------------------------------

CODE_POINTS = (0, 0x10FFFF)


def code_points(op, av) -> list[tuple[int, int]]:
    """Return the code points one parsed pattern item matches, as sorted ranges."""
    if op == sre.LITERAL:
        return [(av, av)]
    if op == sre.NOT_LITERAL:
        return complement([(av, av)])
    if op == sre.IN:
        ranges, negate = [], False
        for item_op, item_av in av:
            if item_op == sre.NEGATE:
                negate = True
            elif item_op == sre.LITERAL:
                ranges.append((item_av, item_av))
            elif item_op == sre.RANGE:
                ranges.append(item_av)
            else:
                raise NotImplementedError(f"class item {item_op} (spell the class out)")
        ranges.sort()
        return complement(ranges) if negate else ranges
    raise NotImplementedError(f"pattern item {op}")


def complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, start = [], CODE_POINTS[0]
    for low, high in sorted(ranges):
        if low > start:
            out.append((start, low - 1))
        start = max(start, high + 1)
    if start <= CODE_POINTS[1]:
        out.append((start, CODE_POINTS[1]))
    return out


def overlap(a, b) -> bool:
    return any(low1 <= high2 and low2 <= high1 for low1, high1 in a for low2, high2 in b)


def assert_backtracks_in_linear_time(pattern: str) -> None:
    """Assert a backtracking engine (Python's re, JavaScript's) needs linear time.

    The pattern must be a sequence of anchors, character classes and repeats of one
    character class. A repeat then hands characters back one at a time when what
    follows fails; if no character it can hold can start what follows, each hand-back
    fails at once and there is only one way to split the input: time linear in its
    length. A repeat followed by something that can match the same characters
    (``[^\\0]*[^\\s\\0]``) tries every split, and every split of the rest: quadratic
    or worse.
    """
    items = list(sre_parse.parse(pattern))
    for i, (op, av) in enumerate(items):
        if op == sre.AT:
            continue
        if op != sre.MAX_REPEAT:
            code_points(op, av)  # a single class: supported
            continue
        _low, _high, body = av
        ((body_op, body_av),) = list(body)  # one class per repeat, nothing nested
        held = code_points(body_op, body_av)
        after = next(((o, a) for o, a in items[i + 1:] if o != sre.AT), None)
        if after is None:
            continue  # only anchors follow: given back once, never again
        if after[0] == sre.MAX_REPEAT:
            raise AssertionError(f"item {i}: two repeats in a row ({pattern!r})")
        assert not overlap(held, code_points(*after)), (
            f"item {i}: the repeat and what follows it can match the same characters, "
            f"so {pattern!r} backtracks over every split of its input"
        )


def test_the_content_pattern_backtracks_in_linear_time():
    assert_backtracks_in_linear_time(schemas.CONTENT_PATTERN)


def test_the_linearity_check_catches_the_pattern_that_stalled_a_worker():
    with pytest.raises(AssertionError, match="every split"):
        assert_backtracks_in_linear_time(r"^[^\u0000]*[^\t \u0000][^\u0000]*$")


@pytest.mark.parametrize("text", [
    "", " ", "\t\n", "\u3000", "\ufeff", "a", " a", "a ", " \u3000a\n", "a\x00", "\x00a",
    " \x00 ", "line\nbreak", "\x1c\x1dz", "\u2028\u2029", "\u00a0\u00a0b",
])
def test_the_content_pattern_means_something_then_no_nul(text):
    # The rule stated by the pattern: at least one character that is not
    # whitespace, and no NUL anywhere.
    meant = "\x00" not in text and any(c not in WHITESPACE for c in text)
    assert bool(re.match(schemas.CONTENT_PATTERN, text)) is meant


WHITESPACE = set(
    "\t\n\x0b\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
) | {chr(c) for c in range(0x2000, 0x200B)}


class CountingPattern:
    """Stands in for a compiled pattern and counts the calls that reach it."""

    def __init__(self, pattern):
        self.pattern = pattern
        self.calls = 0

    def match(self, value):
        self.calls += 1
        return self.pattern.match(value)


def test_content_over_the_limit_is_refused_before_the_pattern_runs(app, monkeypatch):
    (validator,) = EntryInSchema().fields["content"].validators
    counting = CountingPattern(validator.regex)
    monkeypatch.setattr(validator, "regex", counting)
    with pytest.raises(ValidationError) as info:
        validator(STALLING_CONTENT)
    assert counting.calls == 0
    limit = app.config["ENTRY_MAX_LENGTH"]
    assert str(limit) in str(info.value) and "65001" in str(info.value)
    # Within the limit the pattern decides.
    with pytest.raises(ValidationError):
        validator("a" * (limit - 1) + "\x00")
    assert counting.calls == 1


def test_the_length_limit_is_the_setting(app):
    app.config["ENTRY_MAX_LENGTH"] = 5
    assert EntryInSchema().load({"content": "12345"}) == {"content": "12345"}
    with pytest.raises(ValidationError) as info:
        EntryInSchema().load({"content": "123456"})
    assert "at most 5 characters" in str(info.value.messages["content"])
