"""The console's audit log: filters, pages, CSV and JSON Lines downloads."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from diary.extensions import db
from diary.models import AuditEvent
from diary.services import audit_log
from diary.services.audit import AuditTag

WRITER = "writer@example.com"


def seed(app, demo_users):
    """Three events of the writer, one of test@me.com, on known days and IPs."""
    writer, other = demo_users[WRITER], demo_users["test@me.com"]
    with app.app_context():
        db.session.add_all([
            AuditEvent(tag=str(AuditTag.LOGIN_FAILURE), user_id=writer, ip="198.51.100.7",
                       created_at=datetime(2026, 5, 1, 10, tzinfo=timezone.utc),
                       details={"method": "password"}),
            AuditEvent(tag=str(AuditTag.LOGIN_SUCCESS), user_id=writer, ip="198.51.100.7",
                       created_at=datetime(2026, 5, 3, 10, tzinfo=timezone.utc), details={}),
            AuditEvent(tag=str(AuditTag.PASSWORD_CHANGED), user_id=writer, ip="192.0.2.1",
                       created_at=datetime(2026, 5, 5, 10, tzinfo=timezone.utc),
                       user_agent='=HYPERLINK("http://evil.example")', details={}),
            AuditEvent(tag=str(AuditTag.LOGIN_SUCCESS), user_id=other, ip="192.0.2.1",
                       created_at=datetime(2026, 5, 3, 11, tzinfo=timezone.utc), details={}),
        ])
        db.session.commit()


def table(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True).split('data-testid="audit"')[1]


def test_filters_by_user_tag_ip_and_days(app, admin_browser, demo_users):
    seed(app, demo_users)
    rows = table(admin_browser.get(f"/admin/audit?email={WRITER.upper()}"))
    assert rows.count("<tr>") == 4  # header + the writer's three
    rows = table(admin_browser.get("/admin/audit?tag=account:login:success&since=2026-05-01&until=2026-05-31"))
    assert rows.count("<tr>") == 3 and "test@me.com" in rows
    rows = table(admin_browser.get("/admin/audit?ip=192.0.2.1"))
    assert rows.count("<tr>") == 3
    rows = table(admin_browser.get("/admin/audit?since=2026-05-03&until=2026-05-03"))
    assert rows.count("<tr>") == 3  # the two sign-ins of 3 May


def test_bad_filters_are_refused_with_the_form(admin_browser, demo_users):
    assert admin_browser.get("/admin/audit?tag=nope").status_code == 422
    assert admin_browser.get("/admin/audit?since=yesterday").status_code == 422
    response = admin_browser.get("/admin/audit?since=2026-05-05&until=2026-05-01")
    assert response.status_code == 422
    assert "The first day comes after the last." in response.get_data(as_text=True)
    assert admin_browser.get("/admin/audit.csv?tag=nope").status_code == 400


def test_the_log_pages(app, admin_browser, demo_users, monkeypatch):
    monkeypatch.setattr(audit_log, "EVENTS_PER_PAGE", 2)
    seed(app, demo_users)
    first = admin_browser.get(f"/admin/audit?email={WRITER}").get_data(as_text=True)
    assert "Page 1 of 2" in first and "192.0.2.1" in first and "2026-05-01" not in first
    second = admin_browser.get(f"/admin/audit?email={WRITER}&page=2").get_data(as_text=True)
    assert "2026-05-01" in second and "Page 2 of 2" in second


def test_csv_download_is_streamed_filtered_and_safe_for_spreadsheets(app, admin_browser, demo_users):
    seed(app, demo_users)
    response = admin_browser.get(f"/admin/audit.csv?email={WRITER}")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["tag"] for r in rows] == [
        "account:password:change", "account:login:success", "account:login:failure"
    ]
    assert {r["user"] for r in rows} == {WRITER}
    assert json.loads(rows[2]["details"]) == {"method": "password"}
    # A cell a spreadsheet would run as a formula is made text.
    assert rows[0]["user_agent"] == '\'=HYPERLINK("http://evil.example")'



def test_jsonl_download_has_one_object_per_line(app, admin_browser, demo_users):
    seed(app, demo_users)
    response = admin_browser.get("/admin/audit.jsonl?ip=198.51.100.7")
    assert response.status_code == 200 and response.is_streamed
    lines = response.get_data(as_text=True).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["tag"] for r in records] == ["account:login:success", "account:login:failure"]
    assert records[1]["details"] == {"method": "password"}
    assert records[1]["created_at"].startswith("2026-05-01T10:00:00")
    assert set(records[0]) == set(audit_log.EXPORT_FIELDS)
