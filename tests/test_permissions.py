"""Permission names and the built-in roles' permissions, defined once."""

from __future__ import annotations

import re
from pathlib import Path

from diary import permissions

SRC = Path(permissions.__file__).resolve().parent


def names() -> set[str]:
    return {v for k, v in vars(permissions).items() if k.isupper() and isinstance(v, str)
            and ":" in v}


def test_names_follow_the_object_colon_action_scheme():
    assert names() == {"entry:create", "entry:read-own", "entry:edit-own", "entry:delete-own",
                       "entry:read-any", "entry:edit-any", "entry:delete-any", "user:manage",
                       "audit:read"}
    assert all(re.fullmatch(r"[a-z]+:[a-z-]+", name) for name in names())


def test_writer_is_a_subset_of_admin():
    writer = set(permissions.ROLE_PERMISSIONS[permissions.WRITER])
    admin = set(permissions.ROLE_PERMISSIONS[permissions.ADMIN])
    assert writer == {"entry:create", "entry:read-own"}
    assert writer < admin and admin == names()


def test_every_permission_says_what_it_allows():
    assert set(permissions.DESCRIPTIONS) == names()
    assert all(text and text[0].islower() for text in permissions.DESCRIPTIONS.values())


def test_every_role_has_a_description():
    assert set(permissions.ROLE_DESCRIPTIONS) == set(permissions.ROLE_PERMISSIONS)


def test_views_name_permissions_only_through_this_module():
    """Python code outside permissions.py never spells a permission out."""
    literal = re.compile(r"""["'](entry|user|audit):[a-z-]+["']""")
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if p.name != "permissions.py" and "migrations" not in p.parts
                 and literal.search(p.read_text())]
    assert offenders == []


def test_templates_name_permissions_through_perm():
    literal = re.compile(r"""["'](entry|user|audit):[a-z-]+["']""")
    offenders = [str(p.relative_to(SRC)) for p in (SRC / "templates").rglob("*.html")
                 if literal.search(p.read_text())]
    assert offenders == []


def test_templates_see_the_permissions_module(app):
    assert app.jinja_env.globals["perm"] is permissions
