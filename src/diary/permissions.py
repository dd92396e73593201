"""Every permission name, and the permissions each built-in role starts with.

Roles carry permissions as data (Flask-Security's ``Role.permissions``); an operator
can change them without touching code::

    flask --app diary roles add_permissions Writer entry:edit-any

Owners may always edit and delete their own entries; the ``*-any`` permissions
extend that to everybody's entries.
"""

ENTRY_CREATE = "entry:create"
ENTRY_READ_OWN = "entry:read-own"
ENTRY_READ_ANY = "entry:read-any"
ENTRY_EDIT_ANY = "entry:edit-any"
ENTRY_DELETE_ANY = "entry:delete-any"
USER_MANAGE = "user:manage"

WRITER = "Writer"
ADMIN = "Admin"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    WRITER: [ENTRY_CREATE, ENTRY_READ_OWN],
    ADMIN: [
        ENTRY_CREATE,
        ENTRY_READ_OWN,
        ENTRY_READ_ANY,
        ENTRY_EDIT_ANY,
        ENTRY_DELETE_ANY,
        USER_MANAGE,
    ],
}

ROLE_DESCRIPTIONS: dict[str, str] = {
    WRITER: "Writes diary entries and reads their own.",
    ADMIN: "Reads, edits and deletes everybody's entries; manages users.",
}
