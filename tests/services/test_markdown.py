"""Markdown to safe HTML: CommonMark in, only the allowed HTML out."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from diary.services import markdown


def tag_url(tag: str) -> str:
    return f"/?tag={tag}"


# Each payload tries to run script, load something or style the page; none may leave
# a trace in the HTML: no script or style element, no event handler, no address
# with a dangerous scheme, no SVG, iframe, object or form.
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "![x](x\" onerror=\"alert(1))",
    "![x](javascript:alert(1))",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java\u0000script:alert(1))",
    "[click]( javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    '<a href="javascript:alert(1)">x</a>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<iframe src=https://evil.example></iframe>",
    "<object data=x></object><embed src=x>",
    '<form action="https://evil.example"><input name=x></form>',
    "<style>body{display:none}</style>",
    '[x](https://example.com "title\\" onmouseover=\\"alert(1)")',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<<script>script>alert(1)<</script>/script>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<!-- <script>alert(1)</script> -->",
    '<a href="#" onclick="alert(1)">#tag</a>',
    "#tag<img src=x onerror=alert(1)>",
]


class Elements(HTMLParser):
    """The elements and attributes a browser would build from some HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)


def assert_harmless(html: str) -> None:
    parsed = Elements()
    parsed.feed(html)
    parsed.close()
    assert not parsed.comments, html
    for tag, attrs in parsed.found:
        assert tag in markdown.TAGS | {"img"}, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", (name, html)
            if name in ("href", "src"):
                # The browser's view: entities decoded, control characters dropped.
                address = re.sub(r"[\x00-\x20]", "", value or "").lower()
                # A scheme is what a browser's URL parser takes as one; without
                # one the address is relative to this site.
                scheme = re.match(r"([a-z][a-z0-9+.-]*):", address)
                assert scheme is None or scheme.group(1) in ("http", "https", "mailto"), html


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_xss_payload_survives(payload):
    for images in (False, True):
        html = markdown.render(payload, tag_url, images=images)
        assert_harmless(html)
        # Raw HTML never reaches the page as markup: an entry that names a tag
        # shows it as text.
        assert "<script" not in html.lower() and "<svg" not in html.lower()


def test_the_checker_sees_what_would_run():
    for html in ('<img src=x onerror=alert(1)>', '<a href=" javascript:x">y</a>',
                 '<a href="jav&#x09;ascript:x">y</a>', "<p style=x>y</p>", "<svg></svg>",
                 "<!-- x -->", '<a href="data:text/html,x">y</a>'):
        with pytest.raises(AssertionError):
            assert_harmless(html)


def test_raw_html_is_shown_as_text():
    assert markdown.render("<b>bold</b> & <script>x</script>") == (
        "<p>&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;</p>\n"
    )


def test_the_sanitizer_removes_what_the_parser_might_let_through():
    html = ('<p onclick="x()" style="color:red">a<script>b()</script>'
            '<a href="javascript:c()">d</a><a href="data:x">e</a><img src="https://x/y.png"></p>')
    assert markdown.sanitize(html) == (
        '<p>a<a rel="noopener nofollow">d</a><a rel="noopener nofollow">e</a></p>'
    )


def test_links_get_rel_noopener_nofollow_and_no_target():
    html = markdown.render("[a](https://example.com) <https://example.org> [m](mailto:a@b.example)")
    assert html.count('rel="noopener nofollow"') == 3
    assert 'href="https://example.com"' in html and 'href="mailto:a@b.example"' in html
    assert "target=" not in html


def test_commonmark_formatting():
    html = markdown.render("*em* **strong** `code`\n\n- one\n- two\n\n1. first\n\n> quoted")
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert "<code>code</code>" in html
    assert "<ul>\n<li>one</li>" in html and "<ol>\n<li>first</li>" in html
    assert "<blockquote>" in html


def test_headings_sit_below_the_pages_own():
    assert markdown.render("# Title\n## Sub\n###### Small") == (
        "<h3>Title</h3>\n<h4>Sub</h4>\n<h6>Small</h6>\n"
    )


def test_plain_text_keeps_its_lines_and_paragraphs():
    plain = "Went for a walk.\nSaw a heron.\n\nThen tea. It's 5 < 6 & \"fine\"."
    assert markdown.render(plain) == (
        "<p>Went for a walk.<br>\nSaw a heron.</p>\n"
        "<p>Then tea. It&#39;s 5 &lt; 6 &amp; \"fine\".</p>\n"
    )


def test_images_are_off_by_default_and_shown_as_links():
    html = markdown.render("![a heron](https://example.com/heron.jpg)")
    assert html == (
        '<p><a href="https://example.com/heron.jpg" rel="noopener nofollow">a heron</a></p>\n'
    )


def test_images_on_come_from_https_or_this_site_only():
    html = markdown.render(
        "![a](https://example.com/a.png) ![b](/static/b.png) ![c](http://example.com/c.png) "
        "![d](//example.com/d.png) ![e](data:image/png;base64,AAAA)",
        images=True,
    )
    assert html == (
        '<p><img src="https://example.com/a.png" alt="a"> <img src="/static/b.png" alt="b"> '
        "c d e</p>\n"
    )


def test_tags_become_links_to_their_list():
    html = markdown.render("Saw #Herons, not `#code` or [#linked](https://x.example).", tag_url)
    assert html == (
        '<p>Saw <a href="/?tag=herons" class="tag" rel="noopener nofollow">#Herons</a>, not '
        '<code>#code</code> or <a href="https://x.example" rel="noopener nofollow">#linked</a>.</p>\n'
    )


def test_a_tag_url_is_escaped_and_without_tag_url_tags_stay_text():
    html = markdown.render("#tag", lambda tag: f'/?tag={tag}&x="y"')
    assert 'href="/?tag=tag&amp;x=&quot;y&quot;"' in html
    assert markdown.render("#tag") == "<p>#tag</p>\n"


def test_only_the_tag_class_survives():
    parsed = Elements()
    parsed.feed(markdown.sanitize(
        '<a class="tag evil" href="/">x</a><a class="tag" href="/">y</a><p class="tag">z</p>'
    ))
    assert parsed.found == [
        ("a", {"href": "/", "rel": "noopener nofollow"}),
        ("a", {"class": "tag", "href": "/", "rel": "noopener nofollow"}),
        ("p", {}),
    ]
