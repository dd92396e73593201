"""The display name and time zone: what is accepted, what is stored, what is
recorded."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from diary.extensions import db
from diary.models import AuditEvent, User
from diary.services import profile


@pytest.fixture
def user(app, make_user):
    uid = make_user("profile@example.com")
    with app.app_context():
        yield db.session.get(User, uid)


@pytest.mark.parametrize("raw, expected", [
    (None, None),
    ("", None),
    ("   \t ", None),
    ("  Ada Lovelace  ", "Ada Lovelace"),
    ("Zoë", "Zoë"),
    ("Zoe\u0308", "Zoë"),  # decomposed: stored composed (NFC)
    ("\U0001f469\u200d\U0001f4bb Ada", "\U0001f469\u200d\U0001f4bb Ada"),  # emoji with a joiner
    ("x" * 80, "x" * 80),
])
def test_clean_name_accepts(raw, expected):
    assert profile.clean_name(raw) == expected


@pytest.mark.parametrize("raw", [
    "x" * 81,
    "Ada\nLovelace",
    "Ada\x00",
    "Ada\x1b[31m",
    "evil\u202egnp.exe",  # right-to-left override
    "Ada\u2028Lovelace",  # line separator
    12,
])
def test_clean_name_refuses(raw):
    with pytest.raises(profile.ProfileInvalid) as refused:
        profile.clean_name(raw)
    assert refused.value.field == "name"


def test_time_zones_are_the_sorted_iana_names():
    zones = profile.time_zones()
    assert list(zones) == sorted(zones)
    assert {"UTC", "Asia/Tokyo", "Europe/Paris", "America/New_York"} <= set(zones)
    assert profile.is_time_zone("Asia/Tokyo")
    for bad in ("Mars/Olympus_Mons", "asia/tokyo", "../../etc/passwd", "", None):
        assert not profile.is_time_zone(bad)


def test_zone_falls_back_to_utc():
    assert profile.zone("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")
    assert profile.zone(None) is profile.UTC
    assert profile.zone("Mars/Olympus_Mons") is profile.UTC
    assert profile.zone("../etc/passwd") is profile.UTC


def test_a_new_user_is_in_utc_without_a_name(user):
    assert user.name is None and user.time_zone == "UTC"
    assert user.display_name == "profile@example.com"


def events(tag: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.tag == tag)))


def test_update_profile_stores_and_records_each_change(user):
    changed = profile.update_profile(
        user, name="  Ada  ", time_zone="Asia/Tokyo", ip="192.0.2.1", user_agent="ua"
    )
    assert changed == ["name", "time_zone"]
    db.session.expire_all()
    assert (user.name, user.time_zone) == ("Ada", "Asia/Tokyo")
    [named] = events("account:profile:name")
    assert named.user_id == user.id and named.ip == "192.0.2.1"
    assert named.details == {"set": True}  # never the name itself
    [zoned] = events("account:profile:time_zone")
    assert zoned.details == {"from": "UTC", "to": "Asia/Tokyo"}

    # The same values again change and record nothing; an empty name clears it.
    assert profile.update_profile(user, name="Ada", time_zone="Asia/Tokyo") == []
    assert profile.update_profile(user, name="", time_zone="Asia/Tokyo") == ["name"]
    db.session.expire_all()
    assert user.name is None and user.display_name == "profile@example.com"
    assert [e.details for e in events("account:profile:name")] == [{"set": True}, {"set": False}]
    assert len(events("account:profile:time_zone")) == 1


@pytest.mark.parametrize("name, zone, field", [
    ("Ada", "Mars/Olympus_Mons", "time_zone"),
    ("Ada", "", "time_zone"),
    ("Ada\nLovelace", "x", "name"),
    ("A" * 81, "Asia/Tokyo", "name"),
])
def test_update_profile_refuses_and_stores_nothing(user, name, zone, field):
    with pytest.raises(profile.ProfileInvalid) as refused:
        profile.update_profile(user, name=name, time_zone=zone)
    assert refused.value.field == field
    db.session.rollback()
    db.session.expire_all()
    assert (user.name, user.time_zone) == (None, "UTC")
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0
