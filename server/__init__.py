"""Plaint: complaint handling that follows ISO 10002, driven by BPMN diagrams."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import get_locale

from . import config as config_module
from .extensions import babel, csrf, db, login_manager, migrate

__version__ = "0.1.0"

MIGRATIONS = str(Path(__file__).parent / "migrations")
STATIC = str(Path(__file__).resolve().parent.parent / "static")  # the top-level static/


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application; `config` overrides the environment settings."""
    app = Flask(__name__, instance_relative_config=True, static_folder=STATIC)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config_module.from_environment(app.instance_path))
    app.config.update(config or {})
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Server databases drop idle connections; a local SQLite file does not, and a
        # ping on every checkout would cost each request a round trip for nothing.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
        if app.config["PLAINT_PGBOUNCER"]:
            # PgBouncer in transaction mode hands each transaction to any server connection:
            # a statement psycopg prepared on one is unknown on the next (before PgBouncer
            # 1.21), so psycopg must never prepare.
            app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault(
                "connect_args", {})["prepare_threshold"] = None
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.instance_secret_key(app.instance_path)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    from .web.language import select as select_language

    babel.init_app(app, locale_selector=select_language)
    app.jinja_env.filters["fromjson"] = json.loads
    app.jinja_env.globals["get_locale"] = lambda: str(get_locale() or "en")

    from . import access, cli, database, errors, scheduler, security
    from .engine import RunLimits, SpecCache
    from .services import deadlines, money
    from .web import init_app as init_web

    app.jinja_env.filters["money"] = money.format_amount
    database.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    cli.init_app(app)
    init_web(app)
    access.init_app(app)
    app.extensions["plaint.specs"] = SpecCache(
        app.config["PLAINT_SCRIPT_TIME_LIMIT"], app.config["PLAINT_SPEC_CACHE_SIZE"],
        deadlines.working_time(),
        RunLimits(app.config["PLAINT_MAX_ENGINE_STEPS"], app.config["PLAINT_MIN_TIMER_PERIOD"]),
        memory_limit=app.config["PLAINT_SCRIPT_MEMORY_LIMIT"],
        data_limit=app.config["PLAINT_MAX_CASE_DATA_BYTES"])
    scheduler.init_app(app)
    return app
