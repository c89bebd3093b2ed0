"""Public pages: what Plaint is, how to complain, and a health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select, text

from ..extensions import db
from ..models import ProcessVersion

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """The landing page: what this is and how to sign in."""
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
    return render_template("public/index.html", version=version)


@bp.get("/healthz")
def health() -> ResponseReturnValue:
    """Liveness and database reachability, for load balancers."""
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
