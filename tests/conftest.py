"""Fixtures: an app per test on SQLite or PostgreSQL, each holding the reference process.

The app pushes no app context of its own: a test that calls the services directly asks for
`app_ctx`; requests through the test client run in contexts of their own, as in production.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner

from server import create_app
from server.extensions import db

from . import flowcov
from .support import pg
from .support.app import app_config, init_database
from .support.web import AuthActions

pytest_plugins = ["tests.support.axe_watch", "tests.support.browser", "tests.support.mail",
                  "tests.support.imap", "tests.support.pdf", "tests.flowcov",
                  "tests.support.golden"]

BACKENDS = ["sqlite", "postgresql"]


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
        init_database(server.create_database("plaint_template"))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with the reference process, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "plaint.db"
    init_database(f"sqlite:///{path}")
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
    yield server.create_database(name, template="plaint_template")
    server.drop_database(name)


class IsolatedClient(FlaskClient):
    """A test client whose requests each start from an empty context, as in production.

    Flask runs a request inside an app context that is already pushed; a test holding one
    (`app_ctx`) would then share `g`, and so the signed-in user, and its database session
    with every request. Each request here starts in a fresh `contextvars.Context` instead,
    so it pushes and pops contexts of its own (`with client:` is not supported). The test's
    session ends before each request, so what the test reads next is what is committed then.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            db.session.remove()
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The application on a fresh database (no app context pushed)."""
    application = create_app(app_config(database_url))
    application.test_client_class = IsolatedClient
    yield application
    flowcov.collect_app(application)  # in an app context of its own
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[None]:
    """An app context for the test's own calls to the services (its own database session)."""
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> AuthActions:
    """Accounts and signing in: `auth.login("hana", "handler")`, `auth.logout()`."""
    return AuthActions(app, client)
