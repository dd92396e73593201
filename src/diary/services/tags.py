"""Tags: the ``#tag`` words of an entry's text."""

from __future__ import annotations

import re

# A ``#`` that starts a word (not inside one, a URL's fragment or an HTML entity),
# followed by letters, digits, underscores or hyphens.
_TAG = re.compile(r"(?<![\w&/#])#([\w-]+)")


def parse_tags(content: str) -> list[str]:
    """Return the tags of ``content``: its ``#word`` words, lowercased, each once,
    sorted."""
    return sorted({match.lower() for match in _TAG.findall(content or "")})
