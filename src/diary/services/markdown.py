"""Entries rendered from Markdown to safe HTML.

An entry's text is CommonMark (markdown-it-py), parsed with raw HTML off
(``<script>`` is shown as the text it is), a single newline shown as a line break
(so a plain-text entry looks as it always did: its lines and paragraphs), and
``#tags`` turned into links to the entries with that tag by a parser rule on the
text tokens (:func:`_link_tags`), never by rewriting HTML. The parser's HTML
then goes through an allow-list sanitizer (nh3, Rust's ammonia) that keeps only
the few tags and attributes below, links only to ``http``, ``https``, ``mailto``
and this site, and gives every link ``rel="noopener nofollow"``: whatever the
parser let through by mistake, a script, an event handler, a ``javascript:`` or
``data:`` address or a style cannot survive both. Nothing inline needs the
Content-Security-Policy's leave (no style, no script).

Images are off by default (``MARKDOWN_IMAGES``): ``![alt](address)`` is shown as
a link with the alt text. On, an image is shown only from ``https`` or this site
(a relative address); others are shown as their alt text.

Headings are shifted two levels down (``#`` is ``<h3>``): an entry sits below the
page's ``<h1>`` and its list's ``<h2>``.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import escape

from diary.services import tags

HEADING_SHIFT = 2
TAGS = frozenset({
    "a", "blockquote", "br", "code", "em", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "strong", "ul",
})
ATTRIBUTES = {"a": {"href", "title", "class"}, "ol": {"start"}}
IMAGE_ATTRIBUTES = {"img": {"src", "alt", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener nofollow"
# The class of a tag's link: the only class an entry's HTML can hold.
TAG_CLASS = "tag"


def _link_tags(state: StateCore) -> None:
    """Core rule: split each text token holding ``#tags`` into text and links
    (``env["tag_url"](tag)``), where :func:`diary.services.tags.tagged_spans` finds
    them, so the links are exactly the stored tags."""
    tag_url = state.env.get("tag_url")
    if tag_url is None:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        found = list(tags.tagged_spans(block.children))
        for index, spans in reversed(found):
            text = block.children[index]
            replacement: list[Token] = []
            position = 0
            for start, end, tag in spans:
                if start > position:
                    replacement.append(_text(text.content[position:start]))
                link = Token("link_open", "a", 1)
                link.attrs = {"href": tag_url(tag), "class": TAG_CLASS}
                replacement += [link, _text(text.content[start:end]), Token("link_close", "a", -1)]
                position = end
            if position < len(text.content):
                replacement.append(_text(text.content[position:]))
            block.children[index:index + 1] = replacement


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _heading(renderer, tokens, index, options, env):
    token = tokens[index]
    level = min(int(token.tag[1]) + HEADING_SHIFT, 6)
    return f"<h{level}>" if token.nesting == 1 else f"</h{level}>\n"


def _image(renderer, tokens, index, options, env):
    """An image as a link (images off) or, on, from https or this site only."""
    token = tokens[index]
    src = str(token.attrs.get("src", ""))
    alt = renderer.renderInlineAsText(token.children or [], options, env) or src
    if env.get("images") and _image_source_allowed(src):
        return f'<img src="{escape(src)}" alt="{escape(alt)}">'
    if env.get("images"):
        return str(escape(alt))
    return f'<a href="{escape(src)}">{escape(alt)}</a>'


def _image_source_allowed(src: str) -> bool:
    parts = urlsplit(src)
    if parts.scheme:
        return parts.scheme.lower() == "https" and bool(parts.netloc)
    # Relative to this site; "//host/x" would be another site's.
    return not src.startswith("//") and not parts.netloc


def _break(renderer, tokens, index, options, env):
    return "<br>\n"


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", tags.PARSER_OPTIONS)
    # After the inline rules, before adjacent text tokens are joined: a backslash
    # escape is still its own token there, so "\#word" stays no tag (as in tags).
    parser.core.ruler.before("text_join", "diary_tags", _link_tags)
    parser.add_render_rule("heading_open", _heading)
    parser.add_render_rule("heading_close", _heading)
    parser.add_render_rule("image", _image)
    parser.add_render_rule("softbreak", _break)
    parser.add_render_rule("hardbreak", _break)
    return parser


_PARSER = _parser()


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        return value if tag == "a" and value == TAG_CLASS else None
    if tag == "img" and attribute == "src":
        return value if _image_source_allowed(value) else None
    return value


def sanitize(html: str, images: bool = False) -> str:
    """Return ``html`` with only the allowed tags, attributes and addresses."""
    return nh3.clean(
        html,
        tags=set(TAGS | {"img"}) if images else set(TAGS),
        attributes={**ATTRIBUTES, **IMAGE_ATTRIBUTES} if images else ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )


def render(
    content: str, tag_url: Callable[[str], str] | None = None, images: bool = False
) -> str:
    """Return the safe HTML of an entry's ``content`` (Markdown).

    :param tag_url: the address a ``#tag`` links to (``tag_url("herons")``); None
        leaves tags as text.
    :param images: show images (from https or this site) instead of links to them.
    """
    html = _PARSER.render(content, {"tag_url": tag_url, "images": images})
    # An apostrophe as Jinja escapes it (&#39;, safe in text and in quoted
    # attributes alike), so a plain entry's HTML reads as it did before Markdown.
    return sanitize(html, images).replace("'", "&#39;")
