"""Administration of need-to-know: teams and their members, and the category routing table."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..access import ADMIN, current_actor, guard
from ..errors import InvalidInput
from ..services import choice_titles, policy, teams, users

bp = Blueprint("admin_teams", __name__, url_prefix="/admin")
guard(bp, ADMIN)
ROUTE_PREFIX = "route-"  # the routing table's fields: route-<category code>


def _categories() -> list[tuple[str, str]]:
    """Every category code a case can have, with its title."""
    titles = choice_titles.titles("category")
    codes = [*titles, *(c for c in policy.CATEGORIES if c not in titles)]
    return [(code, titles.get(code) or choice_titles.humanize(code) or code) for code in codes]


def _posted() -> dict[str, Any]:
    """The team form as the browser sent it."""
    return {"name": request.form.get("name", ""), "members": request.form.getlist("members")}


def _page(status: int = 200, **extra: Any) -> ResponseReturnValue:
    values: dict[str, Any] = {"form": {"name": "", "members": []}, "errors": {},
                              "route_errors": {}, "chosen_routes": teams.routes()}
    values.update(extra)
    return render_template("admin/teams.html", teams=teams.listing(),
                           accounts=users.list_users(), categories=_categories(),
                           **values), status


@bp.route("/teams", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    """The teams with their members and the routing table; POST adds a team."""
    if request.method == "GET":
        return _page()
    form = _posted()
    try:
        team = teams.create(str(form["name"]), list(form["members"]), current_actor())
    except InvalidInput as exc:
        return _page(422, form=form, errors=exc.field_errors)
    flash(_("Team %(name)s created.", name=team.name), "success")
    return redirect(url_for("admin_teams.index"))


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
def edit(team_id: int) -> ResponseReturnValue:
    """Rename a team and choose its members."""
    team = teams.get(team_id)
    if request.method == "GET":
        form = {"name": team.name, "members": [u.username for u in team.members]}
        return render_template("admin/team.html", team=team, form=form, errors={},
                               accounts=users.list_users())
    form = _posted()
    try:
        saved = teams.update(team_id, str(form["name"]), list(form["members"]), current_actor())
    except InvalidInput as exc:
        return render_template("admin/team.html", team=teams.get(team_id), form=form,
                               errors=exc.field_errors, accounts=users.list_users()), 422
    flash(_("Team %(name)s saved.", name=saved.name), "success")
    return redirect(url_for("admin_teams.index"))


@bp.post("/teams/routes")
def routes() -> ResponseReturnValue:
    """Save the routing table: which team a case of each category belongs to."""
    chosen = {key[len(ROUTE_PREFIX):]: value for key, value in request.form.items()
              if key.startswith(ROUTE_PREFIX)}
    try:
        teams.set_routes(chosen, current_actor())
    except InvalidInput as exc:
        return _page(422, route_errors=exc.field_errors, chosen_routes=chosen)
    flash(_("Routing table saved."), "success")
    return redirect(url_for("admin_teams.index") + "#routes")
