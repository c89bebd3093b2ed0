"""Blueprints, one per area; views stay thin and call services."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every blueprint."""
    from . import public

    app.register_blueprint(public.bp)
