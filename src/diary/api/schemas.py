"""What goes in and out of ``/api/v1``: marshmallow schemas. flask-smorest validates
requests against them and writes them into the OpenAPI document."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from diary.services.entries import max_length

# The most entries one page may hold: part of the API contract, so a constant.
PAGE_SIZE_MAX = 100
Q_MAX_LENGTH = 200
# A tag is at most 64 characters (diary.services.tags.TAG_MAX_LENGTH), with its "#".
TAG_ARG_MAX_LENGTH = 65
# An entry's text: at least one character that is not whitespace, and no NUL (the
# rules of diary.services.entries.clean_content, stated in the contract). The
# whitespace class is spelled out, not \s, because Python's and JavaScript's \s
# differ; this one is the union of both, so no engine reads the rule differently.
# The maximum length is a setting: diary.api.init_app writes it into the document.
_WHITESPACE = (
    r"\t\n\u000b\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a"
    r"\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# Leading whitespace, the first character that is not, then anything but NUL. Each
# repeat is followed by characters it cannot hold, so a backtracking engine has one
# way to split the input and runs in linear time. (The old spelling,
# ^[^\0]*[^WS\0][^\0]*$, meant the same but tried every split: 14 s of CPU for
# 65,000 characters and a NUL.)
CONTENT_PATTERN = rf"^[{_WHITESPACE}]*[^{_WHITESPACE}\u0000][^\u0000]*$"
BLANK_OR_NUL = "Write something first: an entry cannot be blank or contain NUL characters."


class EntryContent(validate.Regexp):
    """An entry's text: at most ENTRY_MAX_LENGTH characters as sent, then
    :data:`CONTENT_PATTERN`. The length comes first, so the pattern never sees more
    than the longest entry; it is a Regexp, so the document publishes the pattern.
    """

    def __init__(self):
        super().__init__(CONTENT_PATTERN, error=BLANK_OR_NUL)

    def __call__(self, value: str) -> str:
        # The service counts after stripping surrounding whitespace; the contract
        # counts what the client sent (maxLength), so client and API never disagree.
        limit = max_length()
        if len(value) > limit:
            raise ValidationError(
                f"An entry can be at most {limit} characters; this one has {len(value)}."
            )
        return super().__call__(value)


class ProblemSchema(Schema):
    """An RFC 9457 problem: the body of every error response."""

    type = fields.String(
        required=True,
        metadata={"description": "Stable URI reference naming the kind of problem."},
    )
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Failing fields and their messages (400/422 only)."},
    )


class MeSchema(Schema):
    """The authenticated user and how they signed in."""

    id = fields.Integer(required=True)
    email = fields.String(required=True)
    username = fields.String(allow_none=True, required=True)
    roles = fields.List(fields.String(), required=True)
    permissions = fields.List(fields.String(), required=True)
    auth_method = fields.String(
        required=True,
        validate=validate.OneOf(["session", "auth-token", "personal-access-token"]),
    )
    scopes = fields.List(
        fields.String(),
        allow_none=True,
        required=True,
        metadata={"description": "The personal access token's scopes; null otherwise."},
    )


class EntrySchema(Schema):
    """One diary entry."""

    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True, metadata={"description": "The author."})
    content = fields.String(
        required=True,
        metadata={"description": "The entry's text as written: Markdown (CommonMark), "
                  "which the pages render; the API never sends HTML."},
    )
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    tags = fields.List(
        fields.String(),
        required=True,
        dump_only=True,
        metadata={"description": "The entry's #tags, lower-case, sorted, without the #."},
    )


class EntryInSchema(Schema):
    """The body of POST /entries and PATCH /entries/<id>."""

    content = fields.String(
        required=True,
        validate=EntryContent(),
        metadata={"description": "The entry's text, at most ENTRY_MAX_LENGTH characters "
                  "(maxLength below) as sent; surrounding whitespace is stripped before "
                  "it is stored."},
    )


class EntryPatchSchema(EntryInSchema):
    """The body of PATCH /entries/<id>."""

    expected_updated_at = fields.AwareDateTime(
        load_default=None,
        metadata={
            "description": "The updated_at you read; if the entry changed since, the "
            "answer is 409 and nothing is changed."
        },
    )


class EntryListArgsSchema(Schema):
    """Query parameters of GET /entries."""

    limit = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=PAGE_SIZE_MAX),
        metadata={"description": f"Entries per page, 1 to {PAGE_SIZE_MAX}."},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The next_cursor of the previous page."},
    )
    q = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=Q_MAX_LENGTH),
        metadata={"description": "Full-text search: only entries that match, best match "
                  "first. Words are stemmed and all required; \"a phrase\" as written; "
                  "-word excluded; or between words allows either."},
    )
    user = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=2147483647),
        metadata={"description": "List this user's entries (needs entry:read-any for others)."},
    )
    # "from" is a Python keyword: the field is from_, the parameter "from".
    from_ = fields.Date(
        data_key="from",
        load_default=None,
        metadata={
            "description": "Only entries written on or after this day (YYYY-MM-DD), a day "
            "of your time zone (set on /account; UTC unless you chose one)."
        },
    )
    to = fields.Date(
        load_default=None,
        metadata={
            "description": "Only entries written on or before this day (YYYY-MM-DD, "
            "included), a day of your time zone; not before `from`."
        },
    )

    @validates_schema
    def _from_before_to(self, data, **_kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("The day `to` cannot be before the day `from`.", "to")
    tag = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=TAG_ARG_MAX_LENGTH),
        metadata={"description": "Only entries with this tag (any case, with or without #)."},
    )


class ExportArgsSchema(Schema):
    """Query parameters of GET /export."""

    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "zip"]),
        metadata={"description": "json (the diary-export format, docs/export.md) or zip "
                  "(Markdown files with YAML front matter)."},
    )


class EntryPageSchema(Schema):
    """One page of entries, newest first."""

    items = fields.List(fields.Nested(EntrySchema), required=True)
    next_cursor = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Pass as ?cursor= for the next page; null on the last page."},
    )


class TagSchema(Schema):
    """One of the user's tags and how many of their entries have it."""

    tag = fields.String(required=True, metadata={"description": "Lower-case, without the #."})
    count = fields.Integer(required=True)


class TagListSchema(Schema):
    """The user's tags, by name."""

    items = fields.List(fields.Nested(TagSchema), required=True)
