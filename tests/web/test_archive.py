"""The archive pages, "on this day" on the dashboard, and newer/older links on the
lists, driven through the pages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import Entry, User
from diary.services.entries import encode_cursor

UTC = timezone.utc


def write(app, email: str, *stamps: datetime, text: str = "entry") -> list[int]:
    with app.app_context():
        uid = db.session.scalar(sa.select(User.id).where(User.email == email))
        rows = [Entry(user_id=uid, content=f"{text} {i}", created_at=s, updated_at=s)
                for i, s in enumerate(stamps)]
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


def set_zone(app, email: str, zone: str) -> None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        user.time_zone = zone
        db.session.commit()


@pytest.fixture
def berliner(app, demo_users):
    set_zone(app, "writer@example.com", "Europe/Berlin")
    return "writer@example.com"


def test_archive_counts_months_in_the_users_zone(client, auth, app, berliner):
    write(app, berliner,
          datetime(2026, 5, 31, 21, 30, tzinfo=UTC),  # 23:30 on 31 May in Berlin
          datetime(2026, 5, 31, 23, 30, tzinfo=UTC),  # 01:30 on 1 June in Berlin
          datetime(2026, 6, 10, tzinfo=UTC))
    write(app, "test@me.com", datetime(2026, 5, 3, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC))
    auth.login()
    html = client.get("/archive").get_data(as_text=True)
    found = dict(re.findall(r'data-testid="count-(\d{4}-\d\d)">(\d+)<', html))
    assert found == {"2026-06": "2", "2026-05": "1"}
    assert 'href="/archive/2026/06">June</a>' in html
    assert "2025" not in html  # another user's year


def test_the_nav_links_to_the_archive(client, auth, demo_users):
    auth.login()
    assert 'href="/archive">Archive</a>' in client.get("/").get_data(as_text=True)


def test_archive_needs_a_sign_in(client, demo_users):
    response = client.get("/archive/2026/05")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/archive/2026/13", "/archive/2026/00", "/archive/0000/05",
                                  "/archive/2026/5", "/archive/26/05", "/archive/2026/may"])
def test_no_such_month_is_404(client, auth, demo_users, path):
    auth.login()
    assert client.get(path).status_code == 404


def test_a_month_shows_its_entries_and_the_nearest_months_with_entries(client, auth, app, berliner):
    may, june, _, _ = write(app, berliner,
                            datetime(2026, 5, 31, 21, 30, tzinfo=UTC),
                            datetime(2026, 5, 31, 23, 30, tzinfo=UTC),
                            datetime(2026, 2, 1, 12, tzinfo=UTC),
                            datetime(2026, 8, 1, 12, tzinfo=UTC))
    write(app, "test@me.com", datetime(2026, 7, 3, tzinfo=UTC), text="someone else")
    auth.login()
    html = client.get("/archive/2026/06").get_data(as_text=True)
    assert f'href="/entry/{june}"' in html and f'href="/entry/{may}"' not in html
    assert 'title="2026-06-01 01:30 CEST"' in html  # shown in the writer's zone
    assert re.search(r'href="/archive/2026/05" data-testid="previous-month"', html)
    assert re.search(r'href="/archive/2026/08" data-testid="next-month"', html)
    assert "someone else" not in client.get("/archive/2026/07").get_data(as_text=True)


def test_a_month_pages_older_and_back_newer(client, auth, app, demo_users):
    app.config["ENTRIES_PER_PAGE"] = 3
    start = datetime(2026, 5, 1, tzinfo=UTC)
    ids = write(app, "writer@example.com", *(start + timedelta(hours=i) for i in range(7)))
    auth.login()
    html = client.get("/archive/2026/05").get_data(as_text=True)
    pages = [re.findall(r'href="/entry/(\d+)"', html)]
    assert 'rel="prev"' not in html
    while more := re.search(r'href="(/archive/2026/05\?before=[^"]+)" rel="next"', html):
        html = client.get(more.group(1)).get_data(as_text=True)
        pages.append(re.findall(r'href="/entry/(\d+)"', html))
    assert [int(i) for p in pages for i in p] == ids[::-1]
    back = [pages[-1]]
    while newer := re.search(r'href="(/archive/2026/05\?after=[^"]+)" rel="prev"', html):
        html = client.get(newer.group(1)).get_data(as_text=True)
        back.append(re.findall(r'href="/entry/(\d+)"', html))
    assert back[::-1] == pages


def test_dashboard_pages_older_and_back_newer(client, auth, app, demo_users):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    write(app, "writer@example.com", *(start + timedelta(hours=i) for i in range(45)),
          text="numbered")
    auth.login()
    html = client.get("/").get_data(as_text=True)
    pages = [re.findall(r"numbered (\d+)", html)]
    while more := re.search(r'href="(/\?before=[^"]+)" rel="next"', html):
        html = client.get(more.group(1)).get_data(as_text=True)
        pages.append(re.findall(r"numbered (\d+)", html))
    assert [len(p) for p in pages] == [20, 20, 5]
    assert 'href="/">Newest</a>' in html
    back = [pages[-1]]
    while newer := re.search(r'href="(/\?after=[^"]+)" rel="prev"', html):
        html = client.get(newer.group(1)).get_data(as_text=True)
        back.append(re.findall(r"numbered (\d+)", html))
    assert back[::-1] == pages


def test_everyones_entries_have_newer_links_too(client, auth, app, demo_users, mfa_policy_off):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    write(app, "writer@example.com", *(start + timedelta(hours=i) for i in range(25)))
    auth.login("admin@example.com", "adminpass")
    first = client.get("/all").get_data(as_text=True)
    older = re.search(r'href="(/all\?before=[^"]+)" rel="next"', first).group(1)
    second = client.get(older).get_data(as_text=True)
    newer = re.search(r'href="(/all\?after=[^"]+)" rel="prev"', second).group(1)
    again = client.get(newer).get_data(as_text=True)
    assert re.findall(r"Entry (\d+):", again) == re.findall(r"Entry (\d+):", first)


def test_both_cursors_at_once_is_400(client, auth, demo_users):
    auth.login()
    assert client.get("/?before=x&after=y").status_code == 400
    assert client.get("/archive/2026/05?after=not-a-cursor").status_code == 400


@pytest.mark.parametrize("per_page", [20, 1])  # every entry on the page, or asked for
def test_dashboard_shows_on_this_day_from_earlier_years_only(client, auth, app, berliner, per_page):
    app.config["ENTRIES_PER_PAGE"] = per_page
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")).date()
    if (today.month, today.day) == (2, 29):
        pytest.skip("no 29 February last year")
    noon = datetime(today.year, today.month, today.day, 10, tzinfo=UTC)  # noon in Berlin
    year_ago = noon.replace(year=today.year - 1)
    earlier = write(app, berliner, year_ago, text="a year ago")
    write(app, berliner, noon - timedelta(days=3), text="this year")
    write(app, "test@me.com", year_ago, text="not mine")
    auth.login()
    html = client.get("/").get_data(as_text=True)
    section = html.split('id="on-this-day-heading"')[1].split("</section>")[0]
    assert f'href="/entry/{earlier[0]}"' in section
    assert "a year ago" in section and "this year" not in section and "not mine" not in section
    # Older pages leave it out (a cursor after every entry: the same entries).
    cursor = encode_cursor(SimpleNamespace(created_at=noon + timedelta(days=400), id=1))
    older = client.get(f"/?before={cursor}").get_data(as_text=True)
    assert "on-this-day-heading" not in older


def test_dashboard_without_earlier_years_has_no_on_this_day(client, auth, app, demo_users):
    write(app, "writer@example.com", datetime.now(UTC) - timedelta(hours=1))
    auth.login()
    assert "On this day" not in client.get("/").get_data(as_text=True)


def test_a_month_renders_its_entries_as_the_dashboard_does(client, auth, app, demo_users):
    write(app, "writer@example.com", datetime(2026, 5, 3, 12, tzinfo=UTC),
          text="**bold** <script>alert(1)</script> #herons")
    auth.login()
    html = client.get("/archive/2026/05").get_data(as_text=True)
    # Markdown rendered and sanitised, tags linked: the same text as on the dashboard.
    assert "<strong>bold</strong>" in html and "**bold**" not in html
    assert "<script>alert(1)" not in html
    assert html.count('class="tag"') == client.get("/").get_data(as_text=True).count('class="tag"') == 1
