"""Administration of the code lists: products, categories and causes, in two languages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..access import ADMIN, current_actor, guard
from ..errors import InvalidInput
from ..models.code_list import LISTS
from ..services import code_lists, system_log

bp = Blueprint("admin_codes", __name__, url_prefix="/admin/codes")
LIST_TITLES = {"products": _l("Products and services"), "categories": _l("Categories"),
               "causes": _l("Root causes")}

guard(bp, ADMIN)  # every page here is for administrators (signed-out people go to sign-in)


def _errors(exc: InvalidInput) -> dict[str, list[str]]:
    return exc.field_errors or {"_form": [exc.message]}


@bp.get("/")
def index() -> ResponseReturnValue:
    """Every list with its codes, labels and whether each may be chosen."""
    return render_template("admin/codes.html", lists=[
        (name, LIST_TITLES[name], code_lists.entries(name)) for name in LISTS],
        changes=system_log.recent("codes.", limit=10))


@bp.route("/<list_name>/new", methods=["GET", "POST"])
def add(list_name: str) -> ResponseReturnValue:
    """Add a code to a list."""
    code_lists.known(list_name)
    form = code_lists.EntryForm.from_values(request.form) if request.method == "POST" \
        else code_lists.EntryForm()
    if request.method == "GET":
        return _form_page(list_name, form, None, {})
    try:
        entry = code_lists.add(list_name, form, current_actor())
    except InvalidInput as exc:
        return _form_page(list_name, form, None, _errors(exc), 422)
    flash(_("%(code)s added to %(list)s.", code=entry.code, list=LIST_TITLES[list_name]),
          "success")
    return redirect(url_for("admin_codes.index") + f"#{list_name}")


@bp.route("/<list_name>/<code>", methods=["GET", "POST"])
def edit(list_name: str, code: str) -> ResponseReturnValue:
    """Change a code's labels, position and whether it may be chosen."""
    entry = code_lists.get(list_name, code)
    if request.method == "GET":
        return _form_page(list_name, code_lists.EntryForm.of(entry), code, {})
    form = code_lists.EntryForm.from_values(request.form)
    form.code = code
    try:
        code_lists.update(list_name, code, form, current_actor())
    except InvalidInput as exc:
        return _form_page(list_name, form, code, _errors(exc), 422)
    flash(_("%(code)s saved.", code=code), "success")
    return redirect(url_for("admin_codes.index") + f"#{list_name}")


@bp.post("/<list_name>/<code>/active")
def switch(list_name: str, code: str) -> ResponseReturnValue:
    """Switch a code off (no longer offered; old cases keep its label) or on again."""
    active = request.form.get("active") == "1"
    code_lists.set_active(list_name, code, active, current_actor())
    flash(_("%(code)s can be chosen again.", code=code) if active else
          _("%(code)s is switched off: it is no longer offered, and cases that have it keep "
            "its label.", code=code), "info")
    return redirect(url_for("admin_codes.index") + f"#{list_name}")


def _form_page(list_name: str, form: code_lists.EntryForm, code: str | None,
               errors: dict[str, list[str]], status: int = 200) -> ResponseReturnValue:
    return render_template("admin/code_form.html", list_name=list_name,
                           list_title=LIST_TITLES[list_name], form=form, code=code,
                           errors=errors), status

