"""Administration of API clients: create one, change its scopes, issue a new token, revoke."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..access import MANAGE_API_CLIENTS, SCOPES, current_actor, guard
from ..errors import InvalidInput
from ..services import api_clients

bp = Blueprint("admin_api", __name__, url_prefix="/admin")
guard(bp, MANAGE_API_CLIENTS)


def _posted() -> dict[str, Any]:
    """The client form as sent, kept as typed when refused."""
    form = request.form
    return {"name": form.get("name", "")[:100], "scopes": form.getlist("scopes"),
            "acting_user": form.get("acting_user", "")[:100],
            "rate_limit": form.get("rate_limit", "")[:12]}


def _page(form: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
          issued: api_clients.Issued | None = None, status: int = 200) -> ResponseReturnValue:
    """The clients page; a token just issued is on it this once, never cached."""
    return render_template(
        "admin/api_clients.html", clients=[api_clients.describe(c)
                                           for c in api_clients.listing()],
        scopes=SCOPES, form=form or {"scopes": [], "rate_limit": api_clients.DEFAULT_RATE},
        errors=errors or {}, issued=issued), status, {"Cache-Control": "no-store"}


@bp.get("/api-clients")
def clients() -> ResponseReturnValue:
    """The API clients, and the form for a new one."""
    return _page()


@bp.post("/api-clients")
def create() -> ResponseReturnValue:
    """Create a client; its token is shown on the answer, once."""
    form = _posted()
    try:
        issued = api_clients.create(form["name"], form["scopes"], form["acting_user"],
                                    form["rate_limit"], current_actor())
    except InvalidInput as exc:
        return _page(form, exc.field_errors or {"_form": [exc.message]}, status=422)
    return _page(issued=issued, status=201)


@bp.route("/api-clients/<int:client_id>", methods=["GET", "POST"])
def edit(client_id: int) -> ResponseReturnValue:
    """Change a client's scopes, acting user and rate limit."""
    client = api_clients.describe(api_clients.get(client_id))
    form, errors = {**client, "acting_user": client["acting_user"] or ""}, {}
    if request.method == "POST":
        form = {**client, **_posted()}
        try:
            api_clients.change(client_id, form["scopes"], form["acting_user"],
                               form["rate_limit"], current_actor())
        except InvalidInput as exc:
            errors = exc.field_errors or {"_form": [exc.message]}
        else:
            flash(_("API client %(name)s was changed.", name=client["name"]), "success")
            return redirect(url_for("admin_api.clients"))
    return render_template("admin/api_client.html", client=client, form=form, errors=errors,
                           scopes=SCOPES), 422 if errors else 200


@bp.post("/api-clients/<int:client_id>/token")
def new_token(client_id: int) -> ResponseReturnValue:
    """Issue a new token; the old one stops working at once."""
    return _page(issued=api_clients.reissue(client_id, current_actor()))


@bp.post("/api-clients/<int:client_id>/revoke")
def revoke(client_id: int) -> ResponseReturnValue:
    """Revoke a client: its token opens nothing any more."""
    api_clients.revoke(client_id, current_actor())
    flash(_("The API client was revoked: its token opens nothing any more."), "info")
    return redirect(url_for("admin_api.clients"))
