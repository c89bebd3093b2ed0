"""The studio's version page for running cases: dry run, then move them to another version."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from ..access import STUDIO, current_actor, guard
from ..errors import InvalidInput
from ..extensions import db
from ..models import ProcessVersion
from ..services.processes import migration

bp = Blueprint("studio_migrate", __name__, url_prefix="/studio/versions")
guard(bp, STUDIO)  # process owners (and administrators) move cases between versions


def _page(version_id: int, status: int = 200, **shown: object) -> ResponseReturnValue:
    """The page with the choice of cases, and what a dry run or a move gave."""
    version = migration.version_by_id(version_id)
    others = list(db.session.scalars(select(ProcessVersion).where(
        ProcessVersion.id != version.id).order_by(ProcessVersion.number.desc())))
    form = {"target": request.form.get("target", ""), "at": request.form.get("at", ""),
            "references": request.form.get("references", "")}
    return render_template("studio/migrate.html", version=version, others=others,
                           steps=migration.steps_with_cases(version.id), form=form,
                           **shown), status


def _chosen(version_id: int) -> tuple[int, list[str]]:
    """The target version and the references of the cases the form chose."""
    target = request.form.get("target", "")
    if not target.isdigit():
        raise InvalidInput(_no_target(), {"target": [_no_target()]})
    references = request.form.get("references", "").replace(",", " ").split()
    return int(target), migration.select_cases(version_id, references,
                                               request.form.get("at") or None)


def _no_target() -> str:
    """The message for a move without a target version."""
    return _("Choose the version to move the cases to.")


@bp.get("/<int:version_id>/cases")
def cases(version_id: int) -> ResponseReturnValue:
    """Choose cases of a version and the version to move them to."""
    return _page(version_id)


@bp.post("/<int:version_id>/cases/dry-run")
def dry_run(version_id: int) -> ResponseReturnValue:
    """List per case what moving it would change, and refuse those that cannot move."""
    try:
        target, references = _chosen(version_id)
        report = migration.dry_run(version_id, target, references)
    except InvalidInput as exc:
        return _page(version_id, 422, problem=exc)
    return _page(version_id, report=report)


@bp.post("/<int:version_id>/cases/move")
def move(version_id: int) -> ResponseReturnValue:
    """Move the chosen cases, each checked again; list what moved and what could not."""
    try:
        target, references = _chosen(version_id)
        report = migration.move(version_id, target, references, current_actor())
    except InvalidInput as exc:
        return _page(version_id, 422, problem=exc)
    return _page(version_id, report=report)
