"""diary.security.link_pages: mailed confirmation links act only on a POST."""

from __future__ import annotations

import re

from diary.security.link_pages import CHANGE_EMAIL_POST_ENDPOINT
from tests.conftest import csrf_token, link_path, mail_link, open_confirm_link, sent_mails


def register(client, email="new@example.org", password="lantern orbit quietly mango"):
    client.post("/register", data={
        "email": email, "password": password, "password_confirm": password,
        "csrf_token": csrf_token(client, "/register")})


def test_get_of_a_confirmation_link_shows_a_button_that_posts_to_it(app, client):
    register(client)
    path = link_path(mail_link(sent_mails(app)[0], "/confirm/"))
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    form = re.search(r'<form action="([^"]+)" method="post">', html)
    assert form and form.group(1) == path
    assert "<script" not in html and "style=" not in html
    assert client.head(path).status_code == 200


def test_the_button_confirms(app, client, auth):
    register(client)
    response = open_confirm_link(client, mail_link(sent_mails(app)[0], "/confirm/"))
    assert response.status_code == 302
    assert auth.login("new@example.org", "lantern orbit quietly mango").status_code == 302


def test_a_bad_token_posted_is_refused_by_the_library(app, client):
    register(client)
    response = open_confirm_link(client, "http://localhost/confirm/not-a-token")
    assert response.status_code == 302
    assert "/confirm" in response.headers["Location"]


def test_other_security_pages_are_untouched(client):
    resend = client.get("/confirm").get_data(as_text=True)
    assert "Resend the confirmation mail" in resend
    assert "Press the button to finish" not in resend


def test_change_email_post_route_exists_only_with_change_email(app, database_url, tmp_path):
    from diary import create_app
    from tests.conftest import base_config

    assert CHANGE_EMAIL_POST_ENDPOINT in app.view_functions
    config = base_config(database_url, str(tmp_path / "other"))
    config["SECURITY_CHANGE_EMAIL"] = False
    assert CHANGE_EMAIL_POST_ENDPOINT not in create_app(config).view_functions
