"""Administration: staff accounts, roles, and which diagram lanes go to which role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user

from ..access import ADMIN, current_actor, guard
from ..errors import InvalidInput
from ..models import User
from ..services import dormant, mfa, users

bp = Blueprint("admin", __name__, url_prefix="/admin")
SHOWN_ONCE = "admin_new_password"


guard(bp, ADMIN)  # every page here is for administrators (signed-out people go to sign-in)


@dataclass
class AccountForm:
    """What the account forms show and send back, kept as typed when refused."""

    username: str = ""
    display_name: str = ""
    email: str = ""
    roles: list[str] = field(default_factory=list)
    active: bool = True
    generate: bool = True  # generate a password rather than use the typed one

    @classmethod
    def posted(cls) -> AccountForm:
        """The form as the browser sent it."""
        form = request.form
        return cls(form.get("username", "").strip(), form.get("display_name", ""),
                   form.get("email", ""), form.getlist("roles"), "active" in form,
                   form.get("password_mode") != "typed")


def _errors(exc: InvalidInput) -> dict[str, list[str]]:
    return exc.field_errors or {"_form": [exc.message]}


def _no_store(body: str, status: int = 200) -> ResponseReturnValue:
    # The page may hold a password shown once: keep it out of caches and the back button.
    return body, status, {"Cache-Control": "no-store"}


def _keep_own_session(username: str) -> None:
    """After changing one's own account, stay signed in here (its other sessions ended).

    The change raised the account's session epoch, which ends this session too; the
    administrator who made it is still the one at this browser.
    """
    if username == current_user.username:
        login_user(users.get_user(username))


def _account_facts(user: User) -> dict[str, Any]:
    """What the account page says about its second factor and its use."""
    return {"second_factor_required": mfa.required(user), "dormancy": dormant.describe(user)}


@bp.get("/")
def index() -> ResponseReturnValue:
    """The administration start page is the account list."""
    return redirect(url_for("admin.user_list"))


@bp.get("/users")
def user_list() -> ResponseReturnValue:
    """Every account with its roles and whether it may sign in."""
    return render_template("admin/users.html", accounts=users.list_users())


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> ResponseReturnValue:
    """Create an account with a typed or a generated password."""
    form = AccountForm.posted() if request.method == "POST" else AccountForm()
    if request.method == "GET":
        return render_template("admin/new_user.html", form=form, roles=users.list_roles(),
                               errors={})
    typed = None if form.generate else request.form.get("password", "")
    try:
        user, password = users.create_user(form.username, form.roles, typed,
                                           form.display_name, form.email, by=current_actor())
    except InvalidInput as exc:
        return render_template("admin/new_user.html", form=form, roles=users.list_roles(),
                               errors=_errors(exc)), 422
    if typed is None:
        # Shown once on the next page; never put in a URL that ends up in logs.
        session[SHOWN_ONCE] = {"username": user.username, "password": password}
    flash(_("Account %(name)s created.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", username=user.username))


@bp.route("/users/<username>", methods=["GET", "POST"])
def edit_user(username: str) -> ResponseReturnValue:
    """Change an account's name, e-mail, roles and whether it may sign in."""
    user = users.get_user(username)
    if request.method == "GET":
        shown = session.pop(SHOWN_ONCE, None)
        password = shown["password"] if shown and shown["username"] == user.username else None
        form = AccountForm(user.username, user.display_name, user.email or "",
                           sorted(user.role_names), user.active)
        return _no_store(render_template("admin/edit_user.html", user=user, form=form,
                                         roles=users.list_roles(), errors={},
                                         password=password, **_account_facts(user)))
    form = AccountForm.posted()
    try:
        users.update_user(user.username, form.display_name, form.email, form.roles,
                          form.active, by=current_actor())
    except InvalidInput as exc:
        return render_template("admin/edit_user.html", user=user, form=form,
                               roles=users.list_roles(), errors=_errors(exc), password=None,
                               **_account_facts(user)), 422
    _keep_own_session(user.username)
    flash(_("Account %(name)s saved.", name=user.username), "success")
    return redirect(url_for("admin.user_list"))


@bp.post("/users/<username>/password")
def new_password(username: str) -> ResponseReturnValue:
    """Give an account a new generated password, shown once on the next page."""
    user = users.get_user(username)
    password = users.reset_password(user.username, by=current_actor())
    _keep_own_session(user.username)
    session[SHOWN_ONCE] = {"username": user.username, "password": password}
    flash(_("%(name)s has a new password; the old one no longer works.", name=user.username),
          "success")
    return redirect(url_for("admin.edit_user", username=user.username))


def _roles_page(status: int = 200, **forms: Any) -> ResponseReturnValue:
    blank: dict[str, Any] = {"role_form": {}, "role_errors": {}, "lane_form": {},
                             "lane_errors": {}}
    return render_template("admin/roles.html", roles=users.list_roles(),
                           mappings=users.lane_mappings(), **{**blank, **forms}), status


@bp.route("/roles", methods=["GET", "POST"])
def roles() -> ResponseReturnValue:
    """The roles with their descriptions and lane mappings; POST adds a role."""
    if request.method == "GET":
        return _roles_page()
    form = {"name": request.form.get("name", "").strip(),
            "description": request.form.get("description", "")}
    try:
        role = users.add_role(form["name"], form["description"], by=current_actor())
    except InvalidInput as exc:
        return _roles_page(422, role_form=form, role_errors=_errors(exc))
    flash(_("Role %(name)s added.", name=role.name), "success")
    return redirect(url_for("admin.roles"))


@bp.post("/lanes")
def add_lane() -> ResponseReturnValue:
    """Send the tasks of a diagram lane to a role of another name."""
    form = {"lane": request.form.get("lane", ""), "role": request.form.get("role", "")}
    try:
        mapping = users.map_lane(form["lane"], form["role"], by=current_actor())
    except InvalidInput as exc:
        return _roles_page(422, lane_form=form, lane_errors=_errors(exc))
    flash(_("Lanes named %(lane)s now go to the role %(role)s.", lane=mapping.lane,
            role=mapping.role_name), "success")
    return redirect(url_for("admin.roles") + "#lanes")


@bp.post("/lanes/<lane>/remove")
def remove_lane(lane: str) -> ResponseReturnValue:
    """Remove a lane mapping."""
    users.unmap_lane(lane, by=current_actor())
    flash(_("The mapping for %(lane)s was removed.", lane=lane), "info")
    return redirect(url_for("admin.roles") + "#lanes")
