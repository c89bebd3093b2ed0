"""Fixtures: an app per test on SQLite or PostgreSQL, each holding the reference process."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient, FlaskCliRunner

from server import create_app
from server.extensions import db
from server.services.actors import Actor

from . import flowcov, pg

pytest_plugins = ["tests.browser_support", "tests.flowcov"]

REPO = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgresql"]


def _config(url: str) -> dict[str, object]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-" + uuid.uuid4().hex,
        "PLAINT_SCRIPT_TIME_LIMIT": 0.5,
        "WTF_CSRF_ENABLED": True,
    }


def _init(url: str) -> None:
    app = create_app(_config(url))
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.PostgresServer | None]:
    """A PostgreSQL server for the whole run, or None where no binaries exist."""
    bindir = pg.find_bindir()
    if bindir is None:
        if os.environ.get("PLAINT_REQUIRE_POSTGRESQL") == "1":
            pytest.fail("PostgreSQL server binaries are required (PLAINT_REQUIRE_POSTGRESQL=1) "
                        "but none were found: apt-get install postgresql")
        yield None
        return
    server = pg.start(bindir)
    try:
        with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE plaint_template")
        _init(server.url("plaint_template"))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with the reference process, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "plaint.db"
    _init(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once per database backend."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database for one test, already holding the reference process."""
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "plaint.db"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"
        return
    server = request.getfixturevalue("postgres")
    if server is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql); "
                    "PostgreSQL tests skipped")
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres",
                         dbname="postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE plaint_template")
    yield server.url(name)
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres",
                         dbname="postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class IsolatedClient(FlaskClient):
    """A test client whose requests run in their own app context, as in production.

    The `app` fixture keeps an app context open for the test's own service calls; Flask
    would reuse it for requests, sharing `g` (and so the signed-in user) between clients.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        ctx = _cv_app.get(None)
        if ctx is not None:
            ctx.pop()
        try:
            return super().open(*args, **kwargs)
        finally:
            if ctx is not None:
                ctx.push()


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The application on a fresh database, inside an app context."""
    application = create_app(_config(database_url))
    application.test_client_class = IsolatedClient
    with application.app_context():
        yield application
        flowcov.collect_app(application)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


HANDLER = Actor("hana.handler", 101, frozenset({"handler"}))
OTHER_HANDLER = Actor("omar.handler", 102, frozenset({"handler"}))
SUPERVISOR = Actor("sara.supervisor", 201, frozenset({"supervisor"}))
AUDITOR = Actor("adel.auditor", 301, frozenset({"auditor"}))

INTAKE = {
    "complainant_name": "Layla Haddad",
    "complainant_email": "layla@example.com",
    "product_service": "Current account",
    "description": "I was charged twice for the same transfer on 3 March.",
    "remedy_sought": "Refund the duplicate charge",
    "consent": True,
}
ACK = {"acknowledgement_channel": "email", "acknowledgement_message": "We have your complaint."}
# Serious, not vulnerable, no regulator: triage.dmn gives priority "high".
ASSESS = {"in_scope": True, "category": "billing", "severity": "serious", "complexity": "simple",
          "vulnerable_customer": False, "regulator_involved": False,
          "immediate_action_needed": False}
INVESTIGATE = {"findings": "The transfer was booked twice.", "need_information": False}
ASK = {"findings": "Need the date.", "need_information": True,
       "question_to_complainant": "On which date did you make the transfer?"}
RESPOND = {"outcome": "upheld", "response": "We refunded the charge.", "remedy_offered": "Refund"}
REVIEW = {"review_outcome": "decision_confirmed", "review_note": "The decision stands."}
CLOSE = {"closure_reason": "accepted", "final_outcome": "upheld", "root_cause": "process",
         "corrective_action_needed": False}
