"""Public pages: what Plaint is, how to complain, and a health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select, text

from ..access import public
from ..extensions import db
from ..models import ProcessVersion
from ..services import calendar, policy

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def index() -> ResponseReturnValue:
    """The landing page: how to complain, the target times, and how staff sign in."""
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
    week = calendar.load().week
    return render_template("public/index.html", version=version,
                           targets=policy.targets_for_public(),
                           week=[(day, week[day]) for day in (6, 0, 1, 2, 3, 4, 5) if day in week])


@bp.get("/healthz")
@public
def health() -> ResponseReturnValue:
    """Liveness and database reachability, for load balancers."""
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
