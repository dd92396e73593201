"""The search pages (diary.web.views: search_entries, search_everyone): the boxes on
the dashboard and on "Everyone's entries", permissions, the reason and its
receipts, escaping, pages. (Named apart from test_views.py, which holds the
entry pages' tests.)"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, Entry
from diary.services.audit import AuditTag
from tests.conftest import csrf_token


def _write(app, user_id: int, *contents: str) -> list[int]:
    with app.app_context():
        made = [Entry(user_id=user_id, content=c) for c in contents]
        db.session.add_all(made)
        db.session.commit()
        return [e.id for e in made]


def _reads(app) -> list[tuple]:
    with app.app_context():
        return sorted(
            (e.user_id, e.details["entry_id"], e.details["reason"])
            for e in db.session.scalars(sa.select(AuditEvent).where(
                AuditEvent.tag == str(AuditTag.ENTRY_ACCESS_READ)))
        )


def test_the_dashboard_has_a_search_box(client, auth, demo_users):
    auth.login()
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'<form class="search-form" action="/search" method="get"', html)
    assert 'name="q"' in html


def test_own_search_finds_stemmed_words_and_never_others_entries(client, auth, demo_users, app):
    _write(app, demo_users["writer@example.com"], "We walked to the herons.", "A quiet day.")
    _write(app, demo_users["test@me.com"], "They walked too: a secret walk.")
    auth.login()
    response = client.get("/search?q=walking")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "We <mark>walked</mark> to the herons." in html
    assert "secret" not in html and "quiet" not in html


def test_phrase_and_exclusion_on_the_page(client, auth, demo_users, app):
    _write(app, demo_users["writer@example.com"], "Herons by the canal.", "Herons at the lake.")
    auth.login()
    html = client.get('/search', query_string={"q": '"herons" -canal'}).get_data(as_text=True)
    assert "at the lake" in html and "canal." not in html


def test_snippets_on_the_page_escape_the_entry(client, auth, demo_users, app):
    _write(app, demo_users["writer@example.com"], "herons <img src=x onerror=alert(1)> 1 < 2")
    auth.login()
    html = client.get("/search?q=herons").get_data(as_text=True)
    assert "<img" not in html and "1 &lt; 2" in html and "<mark>herons</mark>" in html


def test_results_page_with_links(client, auth, demo_users, app):
    _write(app, demo_users["writer@example.com"], *[f"walk {i}" for i in range(25)])
    auth.login()
    first = client.get("/search?q=walk").get_data(as_text=True)
    assert first.count('class="entry"') == 20
    more = re.search(r'href="(/search\?[^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert more == "/search?q=walk&page=2"
    second = client.get(more).get_data(as_text=True)
    assert second.count('class="entry"') == 5 and 'rel="next"' not in second
    assert 'href="/search?q=walk&amp;page=1" rel="prev"' in second


def test_the_search_page_before_a_search_is_its_form(client, auth, demo_users):
    auth.login()
    response = client.get("/search")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'action="/search"' in html and 'class="field-error"' not in html


@pytest.mark.parametrize("query", ["q=", "q=%20", "q=x&page=0", "q=x&page=abc",
                                   "q=x&page=9999", "q=" + "x" * 201])
def test_bad_searches_are_400_with_the_reason(client, auth, demo_users, query):
    auth.login()
    response = client.get("/search?" + query)
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ['"', "NOT", "a AND", "NEAR(a b)", "col:x", "*", "-"])
def test_queries_an_engine_could_choke_on_are_answered(client, auth, demo_users, app, query):
    _write(app, demo_users["writer@example.com"], "a plain entry")
    auth.login()
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200


def test_a_writer_cannot_search_everyone(client, auth, demo_users, app):
    _write(app, demo_users["test@me.com"], "herons")
    auth.login()
    assert client.get("/all/search").status_code == 403
    token = csrf_token(client, "/")
    response = client.post("/all/search", data={"q": "herons", "reason": "curious",
                                                 "csrf_token": token})
    assert response.status_code == 403
    assert _reads(app) == []


def test_everyones_entries_has_the_search_box_with_a_reason(client, auth, demo_users,
                                                             mfa_policy_off):
    auth.login("admin@example.com", "adminpass")
    html = client.get("/all").get_data(as_text=True)
    form = re.search(r'<form class="search-form" action="/all/search" method="post".*?</form>',
                     html, re.S).group(0)
    assert 'name="q"' in form and 'name="reason"' in form and 'name="csrf_token"' in form


def test_searching_everyone_needs_a_reason_and_records_the_reads(client, auth, demo_users, app,
                                                                  mfa_policy_off):
    [theirs] = _write(app, demo_users["test@me.com"], "Herons by the canal")
    _write(app, demo_users["writer@example.com"], "No birds today")
    [own] = _write(app, demo_users["admin@example.com"], "My herons")
    auth.login("admin@example.com", "adminpass")
    token = csrf_token(client, "/all")

    refused = client.post("/all/search", data={"q": "herons", "reason": "", "csrf_token": token})
    assert refused.status_code == 422
    assert "Say why" in refused.get_data(as_text=True)
    assert "by the canal" not in refused.get_data(as_text=True)
    assert _reads(app) == []

    response = client.post("/all/search", data={"q": "heron", "reason": "Abuse report 7",
                                                 "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<mark>Herons</mark> by the canal" in html and "My <mark>herons</mark>" in html
    assert "No birds" not in html
    # The other user's entry shown is recorded for them; the admin's own is not.
    assert _reads(app) == [(demo_users["test@me.com"], theirs, "Abuse report 7")]
    assert own


def test_searching_everyone_without_csrf_is_refused(client, auth, demo_users, app, mfa_policy_off):
    _write(app, demo_users["test@me.com"], "herons")
    auth.login("admin@example.com", "adminpass")
    response = client.post("/all/search", data={"q": "herons", "reason": "why"})
    assert response.status_code == 400
    assert _reads(app) == []


def test_everyones_results_page_by_posting_the_reason_again(client, auth, demo_users, app,
                                                            mfa_policy_off):
    _write(app, demo_users["test@me.com"], *[f"walk {i}" for i in range(25)])
    auth.login("admin@example.com", "adminpass")
    token = csrf_token(client, "/all")
    first = client.post("/all/search", data={"q": "walk", "reason": "Audit",
                                              "csrf_token": token}).get_data(as_text=True)
    assert first.count('class="entry"') == 20 and len(_reads(app)) == 20
    form = re.search(r'<form class="pager-form".*?</form>', first, re.S).group(0)
    fields = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form))
    assert fields["q"] == "walk" and fields["reason"] == "Audit" and fields["page"] == "2"
    second = client.post("/all/search", data=fields).get_data(as_text=True)
    assert second.count('class="entry"') == 5 and len(_reads(app)) == 25


def test_an_admin_opens_the_everyone_search_form(app, demo_users, mfa_policy_off):
    from tests.conftest import AuthActions

    browser = app.test_client()
    assert AuthActions(browser).login("admin@example.com", "adminpass").status_code == 302
    response = browser.get("/all/search?q=herons")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'action="/all/search" method="post"' in html and 'name="csrf_token"' in html
    assert 'value="herons"' in html
