"""The console's user and role pages (``user:manage``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_security import (
    auth_required,
    current_user,
    logout_user,
    permissions_accepted,
    permissions_required,
    url_for_security,
)

from wtforms.validators import InputRequired

from diary import permissions as perm
from diary.admin import bp, fresh_sign_in
from diary.admin.forms import ActionForm, PermissionForm, RoleForm, UserSearchForm
from diary.database import reads_only
from diary.security.client import client_info
from diary.security.identity import may
from diary.services import admin, audit
from diary.services.admin import Action

# The HTTP status of a form shown again because its content was refused.
INVALID_STATUS = 422
# … because the action cannot be done as things are (last Admin, no change).
CONFLICT_STATUS = 409

# Each action: its title, what the button says, and whether it names a role.
ACTIONS: dict[Action, tuple[str, str]] = {
    Action.LOCK: ("Lock the account", "Lock"),
    Action.UNLOCK: ("Unlock the account", "Unlock"),
    Action.DEACTIVATE: ("Deactivate the account", "Deactivate"),
    Action.REACTIVATE: ("Reactivate the account", "Reactivate"),
    Action.ADD_ROLE: ("Add a role", "Add role"),
    Action.REMOVE_ROLE: ("Remove a role", "Remove role"),
    Action.RESET_PASSWORD: ("Send a password reset link", "Send reset link"),
    Action.RESET_TWO_FACTOR: ("Reset two-factor authentication", "Reset two-factor"),
    Action.SIGN_OUT: ("Sign out everywhere", "Sign out everywhere"),
}
# Actions after which the administrator's own session is over, done to themself.
ENDS_OWN_SESSION = frozenset({Action.LOCK, Action.DEACTIVATE, Action.SIGN_OUT})


def _who() -> admin.Who:
    client = client_info()
    return admin.Who(current_user._get_current_object(), client.ip, client.user_agent)


@bp.get("/")
@reads_only
@auth_required()
@permissions_accepted(perm.USER_MANAGE, perm.AUDIT_READ)
def index():
    """The console's start: the users for those who manage them, else the log."""
    if may(perm.USER_MANAGE):
        return redirect(url_for("admin.users"))
    return redirect(url_for("admin.audit_log"))


# --- Users -----------------------------------------------------------------------


@bp.get("/users")
@reads_only
@auth_required()
@permissions_required(perm.USER_MANAGE)
def users():
    """Every user, searched by email or name and filtered, a page at a time."""
    roles = [info.role.name for info in admin.list_roles()]
    form = UserSearchForm(request.args, roles=roles)
    if not form.validate():
        return render_template("admin/users.html", form=form, page=None), INVALID_STATUS
    query = admin.UserQuery(
        text=form.q.data or "",
        role=form.role.data or None,
        filters=frozenset(admin.Filter(f) for f in form.only.data or []),
        page=request.args.get("page", 1, type=int),
    )
    try:
        page = admin.search_users(query)
    except admin.Invalid as exc:
        abort(400, str(exc))
    args = {k: v for k, v in request.args.items(multi=True) if k != "page"}
    return render_template("admin/users.html", form=form, page=page, args=args)


@bp.get("/users/<int:user_id>")
@reads_only
@auth_required()
@permissions_required(perm.USER_MANAGE)
def user(user_id: int):
    """One user: roles, confirmation, factors, lock, last sign-in, entries, events."""
    try:
        overview = admin.user_overview(user_id)
    except admin.UserNotFound:
        abort(404)
    return render_template(
        "admin/user.html", o=overview, actions=ACTIONS, Action=Action, describe=audit.describe
    )


def _action_form(action: Action, target, formdata=None) -> ActionForm:
    form = ActionForm() if formdata is None else ActionForm(formdata=formdata)
    held = sorted(role.name for role in target.roles)
    if action == Action.ADD_ROLE:
        form.role.choices = [
            info.role.name for info in admin.list_roles() if info.role.name not in held
        ]
    elif action == Action.REMOVE_ROLE:
        form.role.choices = held
    else:
        del form.role
        return form
    form.role.validators = [InputRequired("Choose a role.")]
    return form


@bp.route("/users/<int:user_id>/<string:action_name>", methods=["GET", "POST"])
@reads_only
@auth_required()
@permissions_required(perm.USER_MANAGE)
@fresh_sign_in
def user_action(user_id: int, action_name: str):
    """Ask for the reason of one action on a user (GET), then do it (POST)."""
    try:
        action = Action(action_name)
        target = admin.get_user(user_id)
    except (ValueError, admin.UserNotFound):
        abort(404)
    form = _action_form(action, target)
    status = 200
    if request.method == "POST":
        status = INVALID_STATUS
        if form.validate_on_submit():
            role = form.role.data if "role" in form else None
            try:
                done = admin.perform(action, user_id, _who(), form.reason.data, role=role)
            except admin.UserNotFound:
                abort(404)
            except admin.Invalid as exc:
                form.reason.errors = [*form.reason.errors, str(exc)]
            except (admin.LastAdmin, admin.Unchanged, admin.NotPossible, admin.RoleNotFound) as exc:
                flash(str(exc), "error")
                status = CONFLICT_STATUS
            else:
                if user_id == current_user.id and action in ENDS_OWN_SESSION:
                    logout_user()
                    flash(done, "info")
                    return redirect(url_for_security("login"))
                flash(done, "success")
                return redirect(url_for("admin.user", user_id=user_id))
    title, button = ACTIONS[action]
    return (
        render_template(
            "admin/action.html", form=form, target=target, title=title, button=button,
            action=action,
        ),
        status,
    )


# --- Roles -------------------------------------------------------------------------


@bp.get("/roles")
@reads_only
@auth_required()
@permissions_required(perm.USER_MANAGE)
def roles():
    """Every role with its permissions and number of members."""
    return render_template(
        "admin/roles.html", roles=admin.list_roles(), descriptions=perm.DESCRIPTIONS
    )


@bp.route("/roles/new", methods=["GET", "POST"])
@reads_only
@auth_required()
@permissions_required(perm.USER_MANAGE)
@fresh_sign_in
def new_role():
    """Create a role (without permissions: grant them on its page)."""
    form = RoleForm()
    status = 200
    if request.method == "POST":
        status = INVALID_STATUS
        if form.validate_on_submit():
            try:
                role = admin.create_role(
                    form.name.data, form.description.data, _who(), form.reason.data
                )
            except admin.Invalid as exc:
                form.name.errors = [*form.name.errors, str(exc)]
            except admin.Unchanged as exc:
                form.name.errors = [*form.name.errors, str(exc)]
                status = CONFLICT_STATUS
            else:
                flash(f"Role {role.name} created.", "success")
                return redirect(url_for("admin.role", role_id=role.id))
    return render_template("admin/new_role.html", form=form), status


def _permission_forms(info: admin.RoleInfo, formdata=None, which: str | None = None):
    held = set(info.permissions)
    grant = PermissionForm(
        formdata=formdata if which == "grant" else None,
        offered=[p for p in perm.ALL if p not in held],
        prefix="grant",
    )
    revoke = PermissionForm(
        formdata=formdata if which == "revoke" else None,
        offered=[p for p in perm.ALL if p in held],
        prefix="revoke",
    )
    return grant, revoke


@bp.get("/roles/<int:role_id>")
@reads_only
@auth_required()
@permissions_required(perm.USER_MANAGE)
@fresh_sign_in
def role(role_id: int):
    """One role: its permissions, with forms to grant and revoke them."""
    try:
        info = admin.get_role(role_id)
    except admin.RoleNotFound:
        abort(404)
    grant, revoke = _permission_forms(info)
    return _role_page(info, grant, revoke)


def _role_page(info, grant, revoke, status: int = 200):
    return (
        render_template(
            "admin/role.html", info=info, grant=grant, revoke=revoke,
            descriptions=perm.DESCRIPTIONS,
        ),
        status,
    )


@bp.route("/roles/<int:role_id>/<string:change>", methods=["GET", "POST"])
@reads_only
@auth_required()
@permissions_required(perm.USER_MANAGE)
@fresh_sign_in
def role_change(role_id: int, change: str):
    """Grant a permission to a role, or revoke one (POST); a GET (after confirming
    the password) goes back to the role's page."""
    if change not in ("grant", "revoke"):
        abort(404)
    try:
        info = admin.get_role(role_id)
    except admin.RoleNotFound:
        abort(404)
    if request.method == "GET":
        return redirect(url_for("admin.role", role_id=role_id))
    grant, revoke = _permission_forms(info, request.form, change)
    form = grant if change == "grant" else revoke
    status = INVALID_STATUS
    if form.validate_on_submit():
        service = admin.grant_permission if change == "grant" else admin.revoke_permission
        try:
            service(role_id, form.permission.data, _who(), form.reason.data)
        except admin.Invalid as exc:
            form.reason.errors = [*form.reason.errors, str(exc)]
        except (admin.Unchanged, admin.LastAdmin) as exc:
            flash(str(exc), "error")
            status = CONFLICT_STATUS
        else:
            done = "granted to" if change == "grant" else "revoked from"
            flash(f"{form.permission.data} {done} {info.role.name}.", "success")
            return redirect(url_for("admin.role", role_id=role_id))
    return _role_page(info, grant, revoke, status)
