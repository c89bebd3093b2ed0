"""Administration of single sign-on: which provider groups give which roles, and who is linked."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import oidc_config
from ..access import ADMIN, current_actor, guard
from ..errors import InvalidInput
from ..services import sso, users

bp = Blueprint("admin_sso", __name__, url_prefix="/admin")
guard(bp, ADMIN)


def _page(form: dict[str, str] | None = None, errors: dict[str, list[str]] | None = None,
          status: int = 200) -> ResponseReturnValue:
    """The single sign-on page: mappings, the form for a new one, and the linked accounts."""
    config = current_app.config
    return render_template(
        "admin/sso.html", enabled=oidc_config.enabled(config),
        issuer=config["PLAINT_OIDC_ISSUER"], label=oidc_config.label(config),
        groups_claim=config["PLAINT_OIDC_GROUPS_CLAIM"],
        redirect_uri=config["PLAINT_PUBLIC_URL"] + url_for("sso.callback"),
        mappings=sso.group_roles(), roles=users.list_roles(), accounts=sso.linked_accounts(),
        form=form or {}, errors=errors or {}), status


@bp.get("/sso")
def index() -> ResponseReturnValue:
    """Group-to-role mappings and the accounts linked to the provider."""
    return _page()


@bp.post("/sso/mappings")
def add_mapping() -> ResponseReturnValue:
    """Give a role to the members of a provider group."""
    form = {"group": request.form.get("group", "")[:300], "role": request.form.get("role", "")}
    try:
        mapping = sso.add_group_role(form["group"], form["role"], current_actor())
    except InvalidInput as exc:
        return _page(form, exc.field_errors or {"_form": [exc.message]}, 422)
    flash(_("Members of %(group)s now get the role %(role)s when they next sign in.",
            group=mapping.group, role=mapping.role_name), "success")
    return redirect(url_for("admin_sso.index"))


@bp.post("/sso/mappings/remove")
def remove_mapping() -> ResponseReturnValue:
    """Stop a group giving a role (its members lose it when they next sign in)."""
    group, role = request.form.get("group", ""), request.form.get("role", "")
    sso.remove_group_role(group, role, current_actor())
    flash(_("%(group)s no longer gives the role %(role)s.", group=group, role=role), "info")
    return redirect(url_for("admin_sso.index"))
