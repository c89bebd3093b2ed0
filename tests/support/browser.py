"""A live server and a headless Chromium for browser tests (Playwright on Debian's Chromium).

A pytest plugin (listed in tests/conftest.py). Test modules use the fixtures ``live_server``
(a base URL; the app runs in a thread on its own SQLite database, with the handler account
``hana`` and the admin account ``ada``), ``live_app`` (the app behind it, for set-up and
checks) and ``browser``. Each module gets its own server and database.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from server import create_app
from server.extensions import db
from server.services import cases
from server.services.users import create_user

from .axe_watch import WatchedBrowser
from .data import HANDLER, INTAKE, PASSWORD
from .second_factor import code_for, enrol_if_required

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ADMIN = "ada"
LIVE_APPS: dict[str, Flask] = {}  # base URL -> the app it serves, for second-factor codes


@pytest.fixture(scope="module")
def live_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app the live server serves, on its own SQLite database."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("PLAINT_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (PLAINT_REQUIRE_BROWSER=1): "
                        "apt-get install chromium chromium-driver")
        pytest.skip("Chromium not installed (apt-get install chromium); browser tests skipped")
    database = tmp_path_factory.mktemp("browser") / "plaint.db"
    shutil.copy(sqlite_template, database)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                      "SECRET_KEY": uuid.uuid4().hex})
    add_user(app, "hana", "handler", "Hana Handler")
    add_user(app, ADMIN, "admin", "Ada Admin")
    return app


@pytest.fixture(scope="module")
def live_server(live_app: Flask) -> Iterator[str]:
    """The app served on a free loopback port; its base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    LIVE_APPS[base] = live_app
    yield base
    LIVE_APPS.pop(base, None)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(live_server: str) -> Iterator[Any]:
    """Headless Chromium for the module's tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield WatchedBrowser(chromium)  # axe checks every page a journey opens
        chromium.close()


def add_user(app: Flask, username: str, role: str, display_name: str) -> None:
    """An account on the live app, with the test password."""
    with app.app_context():
        create_user(username, [role], PASSWORD, display_name=display_name)
        enrol_if_required(username)
        db.session.remove()


def start_case(app: Flask) -> str:
    """A complaint taken by phone on the live app; its reference."""
    with app.app_context():
        reference = cases.start_case(dict(INTAKE), "phone", HANDLER).case.reference
        db.session.remove()
    return reference


def signed_in(browser: Any, base: str, username: str) -> Any:
    """A new browser page signed in as `username` (password PASSWORD)."""
    page = browser.new_context().new_page()
    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    enter_code(page, base, username)
    # Each person lands on the first page their roles open (the inbox for case workers).
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def enter_code(page: Any, base: str, username: str) -> None:
    """Give the second factor when sign-in asks for it (admins, process owners)."""
    page.wait_for_load_state()
    if "/login/code" in page.url:
        # By name, not by label: the page may be in Arabic (the accessibility sweep).
        page.locator("input[name=code]").fill(code_for(LIVE_APPS[base], username))
        page.locator("form:has(input[name=code]) button[type=submit]").click()


def file_complaint(page: Any, base: str) -> tuple[str, str]:
    """File a complaint on the public form in the browser; its reference and tracking link."""
    page.goto(base + "/")
    page.get_by_role("link", name="Make a complaint").click()
    page.get_by_label("Your name").fill("Layla Haddad")
    page.get_by_label("E-mail").fill("layla@example.com")
    page.get_by_label("What happened?").fill("I was charged twice for the same transfer.")
    page.get_by_label("I agree that my personal data").check()
    page.get_by_role("button", name="Send my complaint").click()
    page.wait_for_url("**/complaints/submitted")
    reference = page.locator("strong").first.inner_text()
    link = page.locator("#tracking-link").inner_text()
    return reference, link


def choose(page: Any, question: str, answer: str) -> None:
    """Tick an answer of a radio group named by its question."""
    page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def open_task(page: Any, base: str, reference: str, title: str) -> None:
    """Open a case's task from the inbox: one's own tasks, else the unclaimed ones.

    The handler who owns a case finds its later tasks already in their own view.
    """
    for view in ("mine", "unclaimed"):
        page.goto(f"{base}/tasks?view={view}")
        link = page.locator("tr", has_text=reference).get_by_role("link", name=title)
        if link.count():
            link.first.click()
            page.wait_for_url("**/tasks/*")
            return
    raise AssertionError(f"{title} of {reference} is in neither the person's nor the "
                         "unclaimed tasks")


def complete(page: Any, title: str) -> None:
    """Send the open task's form and see it done."""
    page.get_by_role("button", name="Complete task").click()
    page.wait_for_url("**/tasks")
    assert page.get_by_text(f"{title} is done.").is_visible()


def acknowledge_and_assess(page: Any, base: str, reference: str) -> None:
    """The first two steps of the reference process: a serious billing complaint."""
    open_task(page, base, reference, "Acknowledge complaint")
    page.get_by_label("Email", exact=True).check()
    page.get_by_label("What was said").fill("We have your complaint.")
    complete(page, "Acknowledge complaint")
    open_task(page, base, reference, "Assess complaint")
    assess(page)
    complete(page, "Assess complaint")


def assess(page: Any) -> None:
    """Fill the assessment: in scope, billing, product "other", serious, simple, nothing else
    to flag."""
    choose(page, "Is this a complaint about our products or services?", "Yes")
    page.get_by_label("Category").select_option("billing")
    page.get_by_label("Product or service").select_option("other")
    choose(page, "Severity", "Serious")
    choose(page, "Complexity", "Simple")
    for question in ("Is the customer in a vulnerable situation?",
                     "Did the complaint come through a regulator or ombudsman?",
                     "Does something need to be done at once?"):
        choose(page, question, "No")
