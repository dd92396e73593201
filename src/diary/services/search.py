"""Full-text search of diary entries, on the database's own search engine.

One function, :func:`search`, behind which each engine does the work:

- **PostgreSQL**: the stored ``tsvector`` column ``entry.search_vector`` (GIN
  index, migration 0010, built with the ``SEARCH_LANGUAGE`` configuration),
  ``websearch_to_tsquery``, ranked by ``ts_rank``, snippets by ``ts_headline``.
- **SQLite**: the FTS5 table ``entry_search`` (porter stemmer, kept in step with
  ``entry`` by triggers), ranked by ``bm25``, snippets by ``snippet()``. The
  user's query is translated to FTS5's syntax by :func:`fts5_query`, so that no
  query can be an FTS5 syntax error.

The query syntax is the web search engines' (``websearch_to_tsquery``'s): words
are all required (stemmed: "walking" finds "walked"), ``"a phrase"`` must appear
as written, ``-word`` or ``-"a phrase"`` must not appear, ``or`` between words
allows either. A query with nothing to look for (only exclusions or punctuation)
finds nothing.

**Ranked in windows.** Matches are ranked best first within windows of the
newest ``SEARCH_RANK_WINDOW`` matches (200 by default, whole pages): page 1 shows
the best of the newest 200 matches, page 11 the best of the next 200. When no more
than a window's worth match (most searches), that is plainly the best first. Why:
to rank every match the database reads every matching row (the index says which
rows match, not how well), and a word in one entry of ten, in a 100,000-entry
diary, is 10,000 rows scattered over the table: 19 ms a page, four times the
dashboard. The newest matches come from the ``(user_id, created_at, id)`` index
with the match tested on each row, and the planner picks that or the word index,
whichever reads less; a window of 200 costs a few hundred rows.

Search respects permissions exactly as the entry lists do
(:mod:`diary.services.entries`): one's own entries need ``entry:read-own``;
another user's, or everyone's, ``entry:read-any`` and a reason. Searching
others' entries is reading them (a match says what they wrote, a snippet shows
it), so every entry of somebody else's on a page of results is recorded as read
for its owner (:mod:`diary.services.receipts`), with the reason.

Snippets are HTML-safe :class:`~markupsafe.Markup`: the engine marks the matches
with two control characters, the text is escaped, and only then do the marks
become ``<mark>`` tags.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
import secrets
from dataclasses import dataclass

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import Integer, Text, column, select, text

from diary import permissions
from diary.extensions import db
from diary.models import Entry, User
from diary.services import receipts
from diary.services.entries import (
    Action,
    Actor,
    EntryAccessDenied,
    EntryError,
    InvalidCursor,
    ReasonRequired,
    is_storable,
)
from diary.services.receipts import Access

# Longest query searched, in characters.
QUERY_MAX_LENGTH = 200
# Deepest page of results served: relevance pages are offsets, and nobody reads
# the 500th page of a search.
PAGE_MAX = 500
# Where the engine starts and ends a match in a snippet: markers that escaping
# leaves alone, replaced by <mark> tags after it. Each search makes its own
# (a random number between control characters), so that no entry's text can
# contain one and pass for a match.
_MARK = "\x02{}{}\x03"
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


# The entry's own columns, and the snippet beside them, of the search statements.
_ENTRY_COLUMNS = (Entry.id, Entry.user_id, Entry.content, Entry.created_at, Entry.updated_at)
_COLUMNS = ", ".join(f"entry.{column.key}" for column in _ENTRY_COLUMNS)
_SNIPPET = column("snippet", Text)


class Scope(enum.Enum):
    """Whose entries a search looks through."""

    OWN = "own"
    EVERYONE = "everyone"


class InvalidQuery(EntryError):
    """The query cannot be searched; ``str(error)`` says why, for the user."""


@dataclass(frozen=True)
class Hit:
    """One entry that matches, with the part of it that matches (safe HTML)."""

    entry: Entry
    snippet: Markup


@dataclass(frozen=True)
class Results:
    """One page of results, best match first; ``page`` counts from 1."""

    hits: list[Hit]
    page: int
    has_more: bool

    @property
    def entries(self) -> list[Entry]:
        return [hit.entry for hit in self.hits]

    @property
    def next_cursor(self) -> str | None:
        """The API's cursor of the next page (None on the last page)."""
        return encode_cursor(self.page + 1) if self.has_more else None


@dataclass(frozen=True)
class Term:
    """One part of a query: a word or a phrase, wanted or excluded."""

    text: str
    exclude: bool = False


def parse(query: str) -> list[list[Term]]:
    """Return ``query`` as alternatives (split at ``or``) of terms that must all
    hold, the way ``websearch_to_tsquery`` reads it. Alternatives with no wanted
    term are dropped: they cannot be searched through the index."""
    groups: list[list[Term]] = [[]]
    for match in _TOKEN.finditer(query):
        minus, phrase, word = match.groups()
        if word is not None:
            if word.lower() == "or" and groups[-1]:
                groups.append([])
                continue
            exclude = word.startswith("-")
            term = word[1:] if exclude else word
        else:
            exclude, term = bool(minus), phrase
        if _has_words(term):
            groups[-1].append(Term(term, exclude))
    return [g for g in groups if any(not t.exclude for t in g)]


def _has_words(term: str) -> bool:
    return any(ch.isalnum() for ch in term)


def fts5_query(groups: list[list[Term]]) -> str:
    """Return the FTS5 query of parsed ``groups``: each term a quoted FTS5 string
    (so that no character of the user's is FTS5 syntax), wanted terms ANDed, then
    excluded ones NOTed, the alternatives ORed."""

    def quoted(term: Term) -> str:
        return '"' + term.text.replace('"', '""') + '"'

    parts = []
    for group in groups:
        wanted = " AND ".join(quoted(t) for t in group if not t.exclude)
        expr = f"({wanted})"
        for term in group:
            if term.exclude:
                expr = f"({expr} NOT {quoted(term)})"
        parts.append(expr)
    return " OR ".join(parts)


def search(
    actor: Actor,
    query: str | None,
    *,
    scope: Scope = Scope.OWN,
    user_id: int | None = None,
    page: int = 1,
    limit: int | None = None,
    access: Access | None = None,
) -> Results:
    """Return one page of the entries that match ``query``, best match first
    (newest first among equals), each with a snippet.

    :param scope: ``Scope.OWN`` (the actor's entries, or ``user_id``'s) or
        ``Scope.EVERYONE`` (everybody's).
    :param user_id: with ``Scope.OWN``, search this user's entries instead of the
        actor's, as :func:`diary.services.entries.list_user_entries` lists them.
    :param access: the reason and client, needed whenever others' entries are
        searched; each of their entries on the page is recorded as read.
    :raises EntryAccessDenied: without the permission the listing would need.
    :raises ReasonRequired: others' entries without a valid reason; nothing is
        searched or recorded.
    :raises InvalidQuery: an empty or overlong query, or a page out of range.
    """
    text_ = (query or "").strip()
    if not text_:
        raise InvalidQuery("Type a word to look for.")
    if len(text_) > QUERY_MAX_LENGTH:
        raise InvalidQuery(f"A search can be at most {QUERY_MAX_LENGTH} characters.")
    if not 1 <= page <= PAGE_MAX:
        raise InvalidQuery(f"Pages of results go from 1 to {PAGE_MAX}.")
    limit = limit or int(current_app.config["ENTRIES_PER_PAGE"])

    if scope is Scope.EVERYONE:
        if not actor.may(permissions.ENTRY_READ_ANY):
            raise EntryAccessDenied("all")
        owner = None
        others = True
    else:
        owner = actor.id if user_id is None else user_id
        if not Action.READ.allowed(actor, owner):
            raise EntryAccessDenied(f"user {owner}")
        others = owner != actor.id
    if others:
        access = access or Access()
        try:
            receipts.clean_reason(access.reason)
        except receipts.InvalidReason as exc:
            raise ReasonRequired(str(exc)) from None

    groups = parse(text_) if is_storable(text_) else []
    if not groups:
        return Results([], page, False)
    nonce = secrets.token_hex(8)
    marks = (_MARK.format("s", nonce), _MARK.format("e", nonce))
    window = rank_window(limit)
    first = (page - 1) * limit
    rows, found = _run(text_, groups, owner, window, first, limit, marks)
    # More after this page: later in its window, or a later window.
    start_in_window = first % window
    has_more = page < PAGE_MAX and (
        start_in_window + limit < min(found, window) or found > window
    )
    if owner is None:
        # Everyone's: their writers, in one query (each entry's author is then
        # found in the session, without a query of its own).
        list(db.session.scalars(select(User).where(User.id.in_({e.user_id for e, _ in rows}))))
    hits = [Hit(entry, _safe(snippet, marks)) for entry, snippet in rows]
    if others:
        theirs = [hit.entry for hit in hits if hit.entry.user_id != actor.id]
        receipts.record(actor.id, receipts.AccessKind.READ, theirs, access)
    return Results(hits, page, has_more)


def rank_window(limit: int) -> int:
    """Return how many matches are ranked together: ``SEARCH_RANK_WINDOW`` rounded
    up to whole pages of ``limit``, so that no page straddles two windows."""
    wanted = max(1, int(current_app.config["SEARCH_RANK_WINDOW"]))
    return -(-wanted // limit) * limit


def _run(
    query: str, groups, owner: int | None, window: int, first: int, limit: int,
    marks: tuple[str, str],
) -> tuple[list[tuple], int]:
    """Return ``(entry, raw snippet)`` of the page of ``limit`` matches starting at
    match ``first``, in one statement, and how many matches its window read (one
    more than ``window`` when a later window has some)."""
    sql, params = statement(query, groups, owner, window, first, limit, marks)
    textual = text(sql).columns(*_ENTRY_COLUMNS, _SNIPPET, column("window_found", Integer))
    rows = db.session.execute(
        select(Entry, _SNIPPET, column("window_found", Integer)).from_statement(textual), params
    ).all()
    return [(entry, snippet) for entry, snippet, _ in rows], (rows[0][2] if rows else 0)


def statement(
    query: str, groups, owner: int | None, window: int, first: int, limit: int,
    marks: tuple[str, str],
) -> tuple[str, dict]:
    """Return the SQL of one page of matches on this database, and its parameters.

    Three steps in one statement: the window's matches newest first (one more
    than the window, to know whether another follows), numbered; the page of the
    best of them; the page's entries with their snippets."""
    dialect = db.session.get_bind().dialect.name
    # INTEGER as the column: psycopg sends a small int as SMALLINT, and the GIN
    # index on (user_id, search_vector) has no SMALLINT = INTEGER operator.
    owner_only = "AND entry.user_id = CAST(:owner AS INTEGER) " if owner is not None else ""
    newest_first = "ORDER BY entry.created_at DESC, entry.id DESC "
    numbered = (
        "row_number() OVER (ORDER BY matches.created_at DESC, matches.id DESC) AS position, "
        "count(*) OVER () AS found"
    )
    params = {
        "owner": owner,
        "window": window,
        "window_read": window + 1,
        "window_start": first - first % window,
        "limit": limit,
        "offset": first % window,
    }
    if dialect == "postgresql":
        # Rank and page first, then headline only the page's rows (ts_headline
        # reads the whole text: costly, so never for rows that are not shown).
        # A text of its own each time (the comment): psycopg prepares a statement
        # it has run five times on a connection, and PostgreSQL may then use one
        # generic plan for every query and window, blind to how common the words
        # are. That plan read all of a common word's 10,000 matches (15 ms a
        # search under wrk, against 1.3 ms planned for the values).
        sql = (
            f"/* search {secrets.token_hex(8)}: planned for its values */ "
            "SELECT " + _COLUMNS + ", ts_headline(CAST(:language AS regconfig), "
            "entry.content, page.query, :options) AS snippet, page.found AS window_found "
            "FROM (SELECT ranked.id, ts_rank(ranked.search_vector, ranked.query) AS rank, "
            "ranked.created_at, ranked.query, ranked.found FROM (SELECT matches.*, " + numbered +
            " FROM (SELECT entry.id, entry.created_at, entry.search_vector, q.query "
            "FROM entry, websearch_to_tsquery(CAST(:language AS regconfig), :query) AS q(query) "
            "WHERE entry.search_vector @@ q.query " + owner_only + newest_first +
            "LIMIT :window_read OFFSET :window_start) AS matches) AS ranked "
            "WHERE ranked.position <= :window "
            "ORDER BY rank DESC, ranked.created_at DESC, ranked.id DESC "
            "LIMIT :limit OFFSET :offset) AS page JOIN entry ON entry.id = page.id "
            "ORDER BY page.rank DESC, page.created_at DESC, page.id DESC"
        )
        params |= {
            "language": current_app.config["SEARCH_LANGUAGE"],
            "query": query,
            "options": f'StartSel="{marks[0]}", StopSel="{marks[1]}", MaxWords=35, MinWords=15',
        }
    elif dialect == "sqlite":
        # bm25() and snippet() need the FTS5 table's MATCH in their own query: the
        # window is a subquery joined to it.
        sql = (
            "SELECT " + _COLUMNS + ", snippet(entry_search, 0, :start, :stop, '…', 24) "
            "AS snippet, ranked.found AS window_found "
            "FROM entry_search JOIN entry ON entry.id = entry_search.rowid "
            "JOIN (SELECT matches.id, " + numbered + " FROM (SELECT entry.id, entry.created_at "
            "FROM entry_search JOIN entry ON entry.id = entry_search.rowid "
            "WHERE entry_search MATCH :query " + owner_only + newest_first +
            "LIMIT :window_read OFFSET :window_start) AS matches) AS ranked "
            "ON ranked.id = entry.id "
            "WHERE entry_search MATCH :query AND ranked.position <= :window "
            "ORDER BY bm25(entry_search), entry.created_at DESC, entry.id DESC "
            "LIMIT :limit OFFSET :offset"
        )
        params |= {"query": fts5_query(groups), "start": marks[0], "stop": marks[1]}
    else:
        raise NotImplementedError(f"full-text search on {dialect}")
    return sql, params


def _safe(snippet: str | None, marks: tuple[str, str]) -> Markup:
    """Return the engine's snippet as HTML: the text escaped, then each match the
    engine marked with ``marks`` in ``<mark>`` (always in pairs)."""
    start, stop = (re.escape(mark) for mark in marks)
    escaped = str(escape(snippet or ""))
    return Markup(re.sub(f"{start}(.*?){stop}", r"<mark>\1</mark>", escaped, flags=re.S)
                  .replace(marks[0], "").replace(marks[1], ""))


def encode_cursor(page: int) -> str:
    """Return the API's opaque cursor of results page ``page``."""
    return base64.urlsafe_b64encode(f"search|{page}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the page a cursor of :func:`encode_cursor` points to.

    :raises InvalidCursor: for anything :func:`encode_cursor` did not produce.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = raw.partition("|")
        page = int(number)
        if kind != "search" or not 1 <= page <= PAGE_MAX:
            raise ValueError(raw)
        return page
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(cursor) from exc
