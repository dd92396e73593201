"""The marshmallow schemas of the API."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from diary.api.schemas import EntryInSchema, EntryListArgsSchema, EntryPatchSchema


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
    assert EntryListArgsSchema().load({}) == {"limit": None, "cursor": None, "q": None, "user": None}
    assert EntryListArgsSchema().load({"limit": "100"})["limit"] == 100
    for bad in ({"limit": "0"}, {"limit": "101"}, {"user": "0"}, {"user": str(2**31)}, {"q": "x" * 201}):
        with pytest.raises(ValidationError):
            EntryListArgsSchema().load(bad)
