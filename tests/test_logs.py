"""diary.logs: JSON or text records, a request id on every record and response, one
access record per request by route pattern, exceptions as one record, and SQL
parameters kept out. (Every sign-in flow against the log:
tests/functional/test_log_secrets.py.)"""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from diary import logs
from diary.extensions import db
from tests.conftest import AuthActions, app_on_test_database
from tests.support.log_capture import access_records, captured_log, diary_handler, records

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def app(database_url, tmp_path):
    """The test app (demo_users and the other fixtures use it) with JSON logs.

    Logging is the process's: the last app made sets its format, so a test makes
    no other app after this one."""
    with app_on_test_database(database_url, tmp_path, LOG_FORMAT="json") as app:
        yield app


@pytest.fixture
def json_app(app):
    return app


def access(log: str, route: str) -> dict:
    [record] = [r for r in access_records(log) if r["route"] == route]
    return record


# --- Settings -----------------------------------------------------------------------


@pytest.mark.parametrize("https, expected", [(False, "text"), (True, "json")])
def test_the_format_is_json_with_https_and_text_without(https, expected):
    assert logs.log_format({"LOG_FORMAT": "", "HTTPS": https}) == expected


def test_a_format_given_beats_the_default():
    assert logs.log_format({"LOG_FORMAT": "JSON", "HTTPS": False}) == "json"
    assert logs.log_format({"LOG_FORMAT": "text", "HTTPS": True}) == "text"


@pytest.mark.parametrize("setting, value", [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD"),
                                            ("LOG_LEVEL", "NOTSET")])
def test_a_bad_setting_stops_the_app_with_one_line_naming_the_variable(
    database_url, tmp_path, setting, value
):
    with pytest.raises(ValueError, match=f"DIARY_{setting}"):
        with app_on_test_database(database_url, tmp_path, **{setting: value}):
            pass


def test_the_level_is_set_and_sql_statements_stay_quiet(database_url, tmp_path):
    sqlalchemy_logger = logging.getLogger("sqlalchemy")
    saved = sqlalchemy_logger.level
    sqlalchemy_logger.setLevel(logging.NOTSET)  # SQLAlchemy's own WARN, undone
    try:
        with app_on_test_database(database_url, tmp_path, LOG_LEVEL="debug") as app:
            assert logging.getLogger().level == logging.DEBUG
            assert sqlalchemy_logger.level == logging.WARNING
            with app.app_context():
                assert not db.engine.logger.isEnabledFor(logging.INFO)
    finally:
        sqlalchemy_logger.setLevel(saved)


def test_a_second_app_replaces_the_handler_instead_of_adding_one(json_app, database_url, tmp_path):
    with app_on_test_database(database_url, tmp_path / "2", LOG_FORMAT="text"):
        handlers = [h for h in logging.getLogger().handlers if h.get_name() == "diary"]
        assert len(handlers) == 1
        assert not isinstance(handlers[0].formatter, logs.JsonFormatter)
        assert len([f for f in logging.getLogger("werkzeug").filters
                    if isinstance(f, logs.DevServerRequestLineFilter)]) == 1


def test_text_lines_carry_the_request_id(database_url, tmp_path):
    with app_on_test_database(database_url, tmp_path, LOG_FORMAT="text") as app:
        with captured_log() as log:
            response = app.test_client().get("/login")
        request_id = response.headers["X-Request-ID"]
        assert f"INFO diary.request [{request_id}] GET /login 200 " in log.getvalue()


# --- The request id -----------------------------------------------------------------


def test_every_kind_of_answer_carries_a_fresh_request_id(json_app, demo_users):
    client = json_app.test_client()
    answers = {
        "page": client.get("/login"),
        "redirect": client.get("/"),
        "not found": client.get("/no/such/page"),
        "api problem": client.get("/api/v1/entries"),
        "api unrouted": client.get("/api/v1/nothing-here"),
        "csrf refusal": client.post("/new_entry", data={"content": "x"}),
        "static": client.get("/static/css/pico.min.css"),
    }
    assert answers["redirect"].status_code == 302
    assert answers["not found"].status_code == 404
    assert answers["api problem"].status_code == 401
    ids = {name: r.headers.get("X-Request-ID") for name, r in answers.items()}
    assert all(HEX_ID.fullmatch(i or "") for i in ids.values()), ids
    assert len(set(ids.values())) == len(ids)


def test_the_redirect_to_https_carries_a_request_id_too(database_url, tmp_path):
    with app_on_test_database(
        database_url, tmp_path, HTTPS=True, BASE_URL="https://diary.example", LOG_FORMAT="json"
    ) as app:
        with captured_log() as log:
            response = app.test_client().get("/login", base_url="http://diary.example")
    assert response.status_code in (301, 302)
    assert response.headers["Location"].startswith("https://")
    record = access(log.getvalue(), "/login")
    assert record["request_id"] == response.headers["X-Request-ID"]
    assert record["duration_ms"] is not None  # timed from before the redirect


def test_a_request_id_from_the_client_is_ignored_without_a_trusted_proxy(json_app):
    response = json_app.test_client().get("/login", headers={"X-Request-ID": "abcdef0123456789"})
    assert response.headers["X-Request-ID"] != "abcdef0123456789"
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


@pytest.mark.parametrize("sent, kept", [
    ("3f2a9c1e8b7d4f60a1b2c3d4e5f60718", True),  # nginx's $request_id
    ("0b5c7f3e-52c6-4b8e-9d0a-6f1e2d3c4b5a", True),  # a UUID
    ("short", False),
    ("x" * 65, False),
    ("abc def ghi jkl", False),
    ('evil" {"level": "ERROR"}', False),
    ("-starts-with-a-dash", False),
])
def test_a_trusted_proxy_may_name_the_request_with_a_sane_token(
    database_url, tmp_path, sent, kept
):
    with app_on_test_database(database_url, tmp_path, TRUSTED_PROXIES=1, LOG_FORMAT="json") as app:
        with captured_log() as log:
            response = app.test_client().get(
                "/login", headers={"X-Request-ID": sent, "X-Forwarded-For": "203.0.113.9"})
    answered = response.headers["X-Request-ID"]
    assert (answered == sent) is kept
    if not kept:
        assert HEX_ID.fullmatch(answered) and sent not in log.getvalue()
    record = access(log.getvalue(), "/login")
    assert record["request_id"] == answered
    assert record["remote_addr"] == "203.0.113.9"  # the client, as the app sees it


def test_every_record_of_a_request_carries_its_id(json_app, monkeypatch):
    def noisy_login(*args, **kwargs):
        logging.getLogger("diary.web").warning("looking at the login page")
        return "ok"

    monkeypatch.setitem(json_app.view_functions, "security.login", noisy_login)
    with captured_log() as log:
        response = json_app.test_client().get("/login")
    request_id = response.headers["X-Request-ID"]
    mine = [r for r in records(log.getvalue()) if r.get("request_id") == request_id]
    assert [r["message"] for r in mine][0] == "looking at the login page"
    assert {r["logger"] for r in mine} == {"diary.web", "diary.request"}


# --- The access record --------------------------------------------------------------


def test_one_access_record_per_request_with_its_fields(json_app, demo_users):
    client = json_app.test_client()
    with captured_log() as log:
        AuthActions(client).login()
        response = client.get("/")
    record = access(log.getvalue(), "/")
    assert record["request_id"] == response.headers["X-Request-ID"]
    assert record["method"] == "GET" and record["status"] == 200
    assert isinstance(record["duration_ms"], float) and record["duration_ms"] >= 0
    assert record["user_id"] == demo_users["writer@example.com"]
    assert record["remote_addr"] == "127.0.0.1"
    assert record["level"] == "INFO" and record["logger"] == "diary.request"
    assert record["timestamp"]
    # one per request: GET /login (the form), POST /login, GET /
    assert [(r["method"], r["route"]) for r in access_records(log.getvalue())] == [
        ("GET", "/login"), ("POST", "/login"), ("GET", "/")]
    login = [r for r in access_records(log.getvalue()) if r["method"] == "POST"][0]
    assert login["status"] == 302 and login["user_id"] == demo_users["writer@example.com"]
    assert "writer@example.com" not in log.getvalue()


def test_an_anonymous_request_has_no_user(json_app):
    with captured_log() as log:
        json_app.test_client().get("/login")
    assert access(log.getvalue(), "/login")["user_id"] is None


def test_the_route_pattern_is_logged_never_the_path_or_query(json_app, demo_users):
    client = json_app.test_client()
    with captured_log() as log:
        client.get("/reset/SECRETTOKEN123456789?x=QUERYSECRET987")
        client.get("/no/such/SECRETPATH55?y=QUERYSECRET987")
    text = log.getvalue()
    assert "SECRETTOKEN123456789" not in text and "SECRETPATH55" not in text
    assert "QUERYSECRET987" not in text
    assert access(text, "/reset/<token>")["status"] in (200, 302)
    assert access_records(text)[-1]["route"] is None
    assert access_records(text)[-1]["status"] == 404


# --- Exceptions -----------------------------------------------------------------------


@pytest.fixture
def failing_app(database_url, tmp_path):
    """An app with routes that fail, answered as in production (500, not raised)."""
    with app_on_test_database(
        database_url, tmp_path, LOG_FORMAT="json", PROPAGATE_EXCEPTIONS=False
    ) as app:

        @app.get("/boom/<token>")
        def boom(token):
            raise RuntimeError("the view fell over")

        @app.get("/bad-sql/<token>")
        def bad_sql(token):
            db.session.execute(sa.text("SELECT * FROM no_such_table WHERE x = :x"),
                               {"x": "SQLPARAMSECRET4242"})

        yield app


def test_an_exception_is_one_json_record_with_the_request_id_and_never_shown(failing_app):
    client = failing_app.test_client()
    with captured_log() as log:
        response = client.get("/boom/PATHSECRET8080")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Traceback" not in page and "fell over" not in page
    text = log.getvalue()
    assert "PATHSECRET8080" not in text
    [error] = [r for r in records(text) if r["level"] == "ERROR"]
    assert error["message"] == "Exception on /boom/<token> [GET]"
    assert "RuntimeError: the view fell over" in error["exc_info"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert access(text, "/boom/<token>")["status"] == 500


def test_a_database_error_is_logged_without_its_parameters(failing_app):
    with captured_log() as log:
        response = failing_app.test_client().get("/bad-sql/x")
    assert response.status_code == 500
    text = log.getvalue()
    assert "no_such_table" in text  # the error is there…
    assert "SQLPARAMSECRET4242" not in text  # …its parameters are not
    assert "SQL parameters hidden" in text


# --- Other loggers ------------------------------------------------------------------


def test_the_dev_servers_request_lines_are_dropped_and_its_banner_kept():
    keep = logs.DevServerRequestLineFilter()

    def record(msg, *args):
        return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, args, None)

    # As werkzeug.serving.WSGIRequestHandler.log formats them.
    request_line = record('127.0.0.1 - - [04/Dec/2026 12:00:00] "%s" %s %s',
                          "GET /reset/TOKEN HTTP/1.1", "200", "-")
    error_line = record("127.0.0.1 - - [04/Dec/2026 12:00:00] code 400, message %s",
                        "Bad request syntax ('GET /reset/TOKEN')")
    assert not keep.filter(request_line) and not keep.filter(error_line)
    assert keep.filter(record(" * Running on http://127.0.0.1:5000"))
    assert keep.filter(record("Press CTRL+C to quit"))


def test_mailed_links_are_logged_only_without_https(database_url, tmp_path):
    from diary import mail

    with app_on_test_database(database_url, tmp_path, HTTPS=True) as app:
        with app.app_context():
            assert "not logged" in mail._loggable_links("see https://x.example/reset/abc")
    with app_on_test_database(database_url, tmp_path / "2") as app:
        with app.app_context():
            assert mail._loggable_links("see https://x.example/reset/abc") == (
                "https://x.example/reset/abc")


def test_the_handler_is_diarys(json_app):
    assert isinstance(diary_handler().formatter, logs.JsonFormatter)
