"""A live server and a headless Chromium for browser tests (Playwright on Debian's Chromium).

Test modules use the fixtures ``live_server`` (a base URL; the app runs in a thread on its
own SQLite database, with the handler account ``hana``) and ``browser``. Each module gets
its own server and database.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from server import create_app
from server.extensions import db
from server.services.users import create_user

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "correct horse battery"
ADMIN = "ada"
APPS: dict[str, Flask] = {}  # base URL -> the app serving it, for checks behind the pages


@pytest.fixture(scope="module")
def live_server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served on a free loopback port, on its own SQLite database."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("PLAINT_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (PLAINT_REQUIRE_BROWSER=1): "
                        "apt-get install chromium chromium-driver")
        pytest.skip("Chromium not installed (apt-get install chromium); browser tests skipped")
    database = tmp_path_factory.mktemp("browser") / "plaint.db"
    shutil.copy(sqlite_template, database)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                      "SECRET_KEY": uuid.uuid4().hex})
    with app.app_context():
        create_user("hana", ["handler"], PASSWORD, display_name="Hana Handler")
        create_user(ADMIN, ["admin"], PASSWORD, display_name="Ada Admin")
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    APPS[base] = app
    yield base
    APPS.pop(base, None)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(live_server: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def signed_in(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    """A new browser page signed in as `username` (password PASSWORD)."""
    page = browser.new_context().new_page()
    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page
