"""Tags in the API: each entry's tags, GET /tags with counts, ?tag= on the list."""

from __future__ import annotations

from tests.api.conftest import problem_of


def test_entries_carry_their_tags(api_login, way, demo_users, writers_may_edit):
    api = api_login(way)
    created = api.post("/api/v1/entries", json={"content": "Saw #Herons and #ducks `#code`"})
    entry = created.get_json()
    assert entry["tags"] == ["ducks", "herons"]
    assert entry["content"] == "Saw #Herons and #ducks `#code`"  # the source, never HTML
    assert api.get(f"/api/v1/entries/{entry['id']}").get_json()["tags"] == ["ducks", "herons"]
    patched = api.patch(f"/api/v1/entries/{entry['id']}", json={"content": "Only #geese"})
    assert patched.get_json()["tags"] == ["geese"]
    assert api.get("/api/v1/entries").get_json()["items"][0]["tags"] == ["geese"]


def test_tags_list_counts_only_ones_own(api_login, way, demo_users):
    other = api_login("pat", "test@me.com")
    other.post("/api/v1/entries", json={"content": "#secret #herons"})
    api = api_login(way)
    assert api.get("/api/v1/tags").get_json() == {"items": []}
    api.post("/api/v1/entries", json={"content": "#herons at dawn"})
    api.post("/api/v1/entries", json={"content": "#herons and #ducks"})
    assert api.get("/api/v1/tags").get_json() == {
        "items": [{"tag": "ducks", "count": 1}, {"tag": "herons", "count": 2}]
    }


def test_list_filters_by_tag(api_login, way, demo_users):
    other = api_login("pat", "test@me.com")
    other.post("/api/v1/entries", json={"content": "their #herons"})
    api = api_login(way)
    first = api.post("/api/v1/entries", json={"content": "#herons one"}).get_json()
    api.post("/api/v1/entries", json={"content": "#ducks"})
    second = api.post("/api/v1/entries", json={"content": "#HERONS two"}).get_json()
    for tag in ("herons", "%23Herons"):
        listed = api.get(f"/api/v1/entries?tag={tag}").get_json()
        assert [e["id"] for e in listed["items"]] == [second["id"], first["id"]]
    page = api.get("/api/v1/entries?tag=herons&limit=1").get_json()
    rest = api.get(f"/api/v1/entries?tag=herons&limit=1&cursor={page['next_cursor']}").get_json()
    assert [e["id"] for e in rest["items"]] == [first["id"]] and rest["next_cursor"] is None
    assert api.get("/api/v1/entries?tag=geese").get_json()["items"] == []
    problem_of(api.get("/api/v1/entries?tag="), 422)


def test_tags_need_the_read_scope(api_login, demo_users):
    api = api_login("pat", scopes=("entries:write",))
    problem_of(api.get("/api/v1/tags"), 403)
