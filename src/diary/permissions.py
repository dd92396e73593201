"""Every permission name, what each allows, and the permissions each built-in role
starts with.

Roles carry permissions as data (Flask-Security's ``Role.permissions``); every
right in Diary is one of these, owners' rights over their own entries included, so
an administrator can see and change all of them (the admin console, or
``flask --app diary roles add_permissions Writer entry:edit-own``).
"""

ENTRY_CREATE = "entry:create"
ENTRY_READ_OWN = "entry:read-own"
ENTRY_EDIT_OWN = "entry:edit-own"
ENTRY_DELETE_OWN = "entry:delete-own"
ENTRY_READ_ANY = "entry:read-any"
ENTRY_EDIT_ANY = "entry:edit-any"
ENTRY_DELETE_ANY = "entry:delete-any"
USER_MANAGE = "user:manage"
AUDIT_READ = "audit:read"

# Each permission's one-line meaning, in the order the pages list them.
DESCRIPTIONS: dict[str, str] = {
    ENTRY_CREATE: "write new entries",
    ENTRY_READ_OWN: "read their own entries (the dashboard)",
    ENTRY_EDIT_OWN: "edit their own entries",
    ENTRY_DELETE_OWN: "delete their own entries",
    ENTRY_READ_ANY: "read everybody's entries (\u201cEveryone's entries\u201d at /all)",
    ENTRY_EDIT_ANY: "edit anybody's entry",
    ENTRY_DELETE_ANY: "delete anybody's entry",
    USER_MANAGE: "manage user accounts and roles (the admin console at /admin)",
    AUDIT_READ: "read everybody's security audit log",
}
ALL = tuple(DESCRIPTIONS)

WRITER = "Writer"
ADMIN = "Admin"

# The tutorial's role demo: Writers view their own entries and create new ones;
# editing and deleting are the Admin's, unless an operator grants them.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    WRITER: [ENTRY_CREATE, ENTRY_READ_OWN],
    ADMIN: list(ALL),
}

ROLE_DESCRIPTIONS: dict[str, str] = {
    WRITER: "Writes diary entries and reads their own.",
    ADMIN: "Reads, edits and deletes everybody's entries; manages users and roles.",
}
