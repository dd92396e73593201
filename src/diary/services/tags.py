"""Tags: the ``#words`` of an entry, found the one way the renderer finds them.

A tag is ``#`` followed by letters, digits, underscores and hyphens, with at least
one letter (``#2026`` and ``#1`` are not tags), at the start of a text or after
whitespace or punctuation that cannot be part of a word or an address. Tags are
found in the entry's Markdown *text* only (:func:`tagged_spans` walks the
parser's tokens): never in inline code or code blocks, in a link's text or
address, an image's text, a bare address (``https://example.com/#top``), a
heading's marker (``# Title`` is a heading, ``#title`` a tag) or after a
backslash (``\\#notatag``). :mod:`diary.services.markdown` turns the same spans
into links, so what is shown as a tag is exactly what is stored.

Tags are stored lower-cased, one row per entry and tag (``entry_tag``), kept in
step with the content by :func:`sync` whenever an entry is written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload, with_expression

from diary.extensions import db
from diary.models.entries import TAG_NAMES_SEPARATOR, Entry, EntryTag

# The one set of parser options for tags and rendering (diary.services.markdown):
# CommonMark, no raw HTML, a single newline is a line break (as plain text shows it).
PARSER_OPTIONS = {"html": False, "breaks": True, "linkify": False, "typographer": False}
# The longest tag stored (the column's size); a longer #word is no tag.
TAG_MAX_LENGTH = 64

# "#" after the start or a character that ends a word but cannot join one to an
# address: whitespace and common punctuation, not / & = @ # \ or a word character.
_TAG = re.compile(
    r"(?:^|(?<=[\s(\[{\"'“‘«,;:!?.*]))#((?=[\w-]*[^\W\d_])[\w-]+)",
    re.UNICODE,
)
_ADDRESS = re.compile(r"\S*(?:://|www\.|mailto:)\S*", re.IGNORECASE)



def _collect(state) -> None:
    """Core rule: gather the tags of every inline token into ``env["tags"]``. It
    runs where the renderer's rule does, before adjacent text tokens are joined,
    while a backslash escape is still its own token (``\\#word`` is no tag)."""
    found = state.env.setdefault("tags", set())
    for token in state.tokens:
        if token.type == "inline" and token.children:
            for _, spans in tagged_spans(token.children):
                found.update(tag for _, _, tag in spans)


_PARSER = MarkdownIt("commonmark", PARSER_OPTIONS)
_PARSER.core.ruler.before("text_join", "diary_tags", _collect)


def normalize(word: str) -> str | None:
    """Return the stored form of a tag's word (without ``#``): NFC, lower-case,
    trailing hyphens dropped; None if that is no tag (too long, or no letter)."""
    tag = unicodedata.normalize("NFC", word).lower().rstrip("-")
    if not tag or len(tag) > TAG_MAX_LENGTH or not any(ch.isalpha() for ch in tag):
        return None
    return tag


def spans_in_text(text: str) -> list[tuple[int, int, str]]:
    """Return ``(start, end, tag)`` for each tag in a plain ``text`` (one text
    token): ``text[start:end]`` is the ``#word`` as written."""
    addresses = [match.span() for match in _ADDRESS.finditer(text)]
    spans = []
    for match in _TAG.finditer(text):
        start = match.start()
        if any(a <= start < b for a, b in addresses):
            continue
        word = match.group(1)
        tag = normalize(word)
        if tag is None:
            continue
        end = match.start(1) + len(word.rstrip("-"))
        spans.append((start, end, tag))
    return spans


def tagged_spans(children: Sequence[Token]) -> Iterator[tuple[int, list[tuple[int, int, str]]]]:
    """Yield ``(index, spans)`` for each text token among an inline token's
    ``children`` that holds tags, skipping the text of links and images."""
    in_link = 0
    for index, child in enumerate(children):
        if child.type == "link_open":
            in_link += 1
        elif child.type == "link_close":
            in_link -= 1
        elif child.type == "text" and not in_link:
            spans = spans_in_text(child.content)
            if spans:
                yield index, spans


def parse_tags(content: str) -> list[str]:
    """Return the tags of an entry's ``content``: lower-cased, each once, sorted."""
    if "#" not in content:
        return []
    env: dict = {}
    _PARSER.parse(content, env)
    return sorted(env.get("tags", ()))


# Options of a statement that loads entries: each entry's tags in that same
# statement (Entry.tag_names, from a subquery that reads the entry's rows of
# entry_tag's primary key), instead of a second query for Entry.tag_links (which
# are then loaded only if something changes them, see sync()).
WITH_NAMES = (
    with_expression(
        Entry.tag_names,
        select(func.aggregate_strings(EntryTag.tag, TAG_NAMES_SEPARATOR))
        .where(EntryTag.entry_id == Entry.id)
        .correlate(Entry)
        .scalar_subquery(),
    ),
    lazyload(Entry.tag_links),
)


def sync(entry) -> None:
    """Make the stored tags of ``entry`` (an :class:`~diary.models.Entry` in the
    session) those of its content; the caller commits."""
    wanted = set(parse_tags(entry.content))
    current = {link.tag: link for link in entry.tag_links}
    for tag, link in current.items():
        if tag not in wanted:
            entry.tag_links.remove(link)
    for tag in sorted(wanted - current.keys()):
        entry.tag_links.append(EntryTag(tag=tag, user_id=entry.user_id))


def user_tags(user_id: int) -> list[tuple[str, int]]:
    """Return ``(tag, number of entries)`` for every tag of user ``user_id``'s
    entries, by tag. Only their own: nobody else's tags are ever counted."""
    rows = db.session.execute(
        select(EntryTag.tag, func.count())
        .where(EntryTag.user_id == user_id)
        .group_by(EntryTag.tag)
        .order_by(EntryTag.tag)
    )
    return [(tag, count) for tag, count in rows]
