"""API clients for tests: a token with the scopes a test needs, and calls with it."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import User
from server.services import api_clients
from server.services.actors import Actor

from .web import make_user

ADMIN = Actor("ada", None, frozenset({"admin"}))


def api_token(app: Flask, name: str, *scopes: str, acting: str = "", rate: int = 600,
              acting_roles: tuple[str, ...] = ("handler",)) -> str:
    """Create an API client with these scopes (and an acting user, made if needed)."""
    with app.app_context():
        if acting:
            if db.session.scalar(select(User.id).where(User.username == acting)) is None:
                make_user(acting, *acting_roles)
        return api_clients.create(name, list(scopes), acting, str(rate), ADMIN).token


def bearer(token: str, **more: str) -> dict[str, Any]:
    """The headers of a call made with a token."""
    return {"Authorization": f"Bearer {token}", **more}
