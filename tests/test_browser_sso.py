"""Single sign-on in Chromium: through a real OpenID Connect provider and back, with the
roles of one's group.

The provider (node-oidc-provider, tests/support/oidc.py) needs Plaint's callback address
before it starts and Plaint needs the provider's issuer, so this module makes its own live
server: the port is taken first, the provider started with it, then the app. The
provider's login and consent pages are third-party markup: axe checks Plaint's own pages
here (``axe_own``), in both languages.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from server import create_app
from server.extensions import db
from server.services import sso, users

from .support import axe
from .support.browser import ADMIN, CHROMIUM, LIVE_APPS, add_user, signed_in
from .support.oidc import Provider, identity_provider

pytestmark = pytest.mark.axe_own
ACCOUNTS = {"alice": {"name": "Alice Amin", "email": "alice@example.com",
                      "groups": ["complaints-handlers"]}}


@dataclass
class Later:
    """A WSGI app that answers with the app it is given once that exists."""

    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def world(sqlite_template: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask, Provider]]:
    """Plaint served on loopback with single sign-on at the test provider."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed (apt-get install chromium); browser tests skipped")
    later = Later()
    server = make_server("127.0.0.1", 0, later, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    with identity_provider([base + "/login/sso/callback"], ACCOUNTS) as provider:
        database = tmp_path_factory.mktemp("browser-sso") / "plaint.db"
        shutil.copy(sqlite_template, database)
        later.app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                                "SECRET_KEY": uuid.uuid4().hex, "PLAINT_PUBLIC_URL": base,
                                **provider.settings()})
        add_user(later.app, ADMIN, "admin", "Ada Admin")
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        LIVE_APPS[base] = later.app  # where signing in finds the admin's second factor
        yield base, later.app, provider
        LIVE_APPS.pop(base, None)
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(world: tuple[str, Flask, Provider]) -> str:
    """The base URL of this module's server (the browser fixture serves it)."""
    return world[0]


def no_axe_faults(page: Any) -> None:
    """axe finds nothing on the page as shown, nor on it in Arabic on a phone's screen."""
    assert axe.violations(page) == [], page.url
    desktop = page.viewport_size
    page.context.add_cookies([{"name": "plaint_language", "value": "ar",
                               "url": page.url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert axe.violations(page) == [], f"{page.url} in Arabic"
    assert axe.overflow(page) == 0, axe.too_wide(page)
    page.context.clear_cookies(name="plaint_language")
    page.set_viewport_size(desktop)
    page.reload()


def test_someone_signs_in_through_the_provider_and_gets_the_roles_of_their_group(
        browser: Any, world: tuple[str, Flask, Provider]) -> None:
    base, app, _provider = world
    # The administrator maps the directory's group to the handler role.
    admin = signed_in(browser, base, ADMIN)
    admin.goto(base + "/admin")
    admin.get_by_role("link", name="Single sign-on").click()
    admin.get_by_label("Group as the provider sends it").fill("complaints-handlers")
    admin.get_by_label("Gives the role").select_option("handler")
    admin.get_by_role("button", name="Add mapping").click()
    expect(admin.get_by_text("Members of complaints-handlers now get the role handler")) \
        .to_be_visible()
    no_axe_faults(admin)

    page = browser.new_context().new_page()
    page.goto(base + "/login")
    no_axe_faults(page)
    page.get_by_role("link", name="Sign in with Test Directory").click()
    # The provider's own login and consent pages.
    page.wait_for_url(lambda url: not url.startswith(base))
    page.locator('input[name="login"]').fill("alice")
    page.locator('input[name="password"]').fill("whatever the directory checks")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    # Back in Plaint, in the inbox a handler works from.
    page.wait_for_url(base + "/tasks**")
    expect(page.get_by_text("Signed in as Alice Amin.")).to_be_visible()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.get_by_role("link", name="Record a complaint")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    with app.app_context():
        assert users.get_user("alice").role_names == {"handler"}
        db.session.remove()

    admin.reload()
    expect(admin.locator("#linked-alice")).to_contain_text("complaints-handlers")
    with app.app_context():
        assert [a.username for a in sso.linked_accounts()] == ["alice"]
        db.session.remove()
    admin.context.close()
    page.context.close()
