"""Entries on the pages: Markdown rendered safely, #tags as links that filter the list."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token
from tests.web.test_views import entry_id_from, post_entry
from tests.services.test_markdown import XSS_PAYLOADS, assert_harmless


def entry_html(page: str) -> list[str]:
    """The HTML inside each entry's content element of a page."""
    return re.findall(r'<div class="entry-content">(.*?)</div>', page, re.S)


def test_markdown_is_rendered_on_every_page_that_shows_an_entry(client, auth, demo_users,
                                                                 writers_may_edit):
    auth.login()
    entry_id = entry_id_from(post_entry(client, "Went *out*.\nSaw a **heron**.\n\n- tea"))
    for path in ("/", f"/entry/{entry_id}", f"/delete_entry/{entry_id}"):
        [html] = entry_html(client.get(path).get_data(as_text=True))
        assert html == "<p>Went <em>out</em>.<br>\nSaw a <strong>heron</strong>.</p>\n<ul>\n<li>tea</li>\n</ul>\n", path
    # The editor shows the source, as written.
    editor = client.get(f"/edit_entry/{entry_id}").get_data(as_text=True)
    assert "Went *out*.\nSaw a **heron**." in editor


def test_everyones_entries_render_ones_own(client, auth, demo_users, mfa_policy_off):
    auth.login("admin@example.com", "adminpass")
    post_entry(client, "Admin's **note**")
    [html] = entry_html(client.get("/all").get_data(as_text=True))
    assert html == "<p>Admin&#39;s <strong>note</strong></p>\n"


# (An entry with a NUL character is refused before it is stored.)
@pytest.mark.parametrize("payload", [p for p in XSS_PAYLOADS if "\x00" not in p])
def test_no_payload_survives_on_the_pages(client, auth, demo_users, payload):
    auth.login()
    response = post_entry(client, payload)
    assert response.status_code == 302
    for path in ("/", response.headers["Location"]):
        [html] = entry_html(client.get(path).get_data(as_text=True))
        assert_harmless(html)


def test_images_follow_the_setting(client, auth, demo_users, app):
    auth.login()
    post_entry(client, "![heron](https://example.com/h.jpg)")
    [off] = entry_html(client.get("/").get_data(as_text=True))
    assert "<img" not in off and 'href="https://example.com/h.jpg"' in off
    app.config["MARKDOWN_IMAGES"] = True
    [on] = entry_html(client.get("/").get_data(as_text=True))
    assert '<img src="https://example.com/h.jpg" alt="heron">' in on


def test_tags_link_to_the_filtered_dashboard(client, auth, demo_users):
    auth.login()
    post_entry(client, "Saw #Herons at the canal")
    post_entry(client, "Rain, #walk")
    post_entry(client, "Two more #herons")
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/?tag=herons" class="tag" rel="noopener nofollow">#Herons</a>' in page
    filtered = client.get("/?tag=herons").get_data(as_text=True)
    assert "Your entries tagged #herons" in filtered
    assert [re.sub(r"<[^>]+>", "", html).strip() for html in entry_html(filtered)] == [
        "Two more #herons", "Saw #Herons at the canal"
    ]
    assert "None of your entries is tagged #geese." in client.get("/?tag=geese").get_data(as_text=True)


def test_tag_filter_pages_keep_the_tag(client, auth, demo_users, app):
    app.config["ENTRIES_PER_PAGE"] = 1
    auth.login()
    post_entry(client, "first #herons")
    post_entry(client, "no tag")
    post_entry(client, "second #herons")
    page = client.get("/?tag=herons").get_data(as_text=True)
    older = re.search(r'href="(/\?[^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    assert "tag=herons" in older
    assert [re.sub(r"<[^>]+>", "", h).strip() for h in entry_html(client.get(older).get_data(as_text=True))] == [
        "first #herons"
    ]


def test_a_tag_never_shows_another_users_entries(client, auth, demo_users, make_user):
    make_user("alice@example.com", "alice-password")
    auth.login("alice@example.com", "alice-password")
    post_entry(client, "Alice's #herons secret")
    auth.logout()
    auth.login()
    post_entry(client, "mine #herons")
    filtered = client.get("/?tag=herons").get_data(as_text=True)
    assert "Alice" not in filtered and len(entry_html(filtered)) == 1


def test_anothers_tags_stay_text_for_a_reader_with_a_reason(client, auth, demo_users, make_user,
                                                            mfa_policy_off):
    make_user("alice@example.com", "alice-password")
    auth.login("alice@example.com", "alice-password")
    entry_id = entry_id_from(post_entry(client, "Alice's #herons"))
    [own] = entry_html(client.get(f"/entry/{entry_id}").get_data(as_text=True))
    assert 'href="/?tag=herons"' in own
    auth.logout()
    auth.login("admin@example.com", "adminpass")
    shown = client.post(f"/entry/{entry_id}", data={
        "reason": "Abuse report", "csrf_token": csrf_token(client, "/")})
    # The admin's own list is no place for Alice's tag: it is shown, not linked.
    assert entry_html(shown.get_data(as_text=True)) == ["<p>Alice&#39;s #herons</p>\n"]
