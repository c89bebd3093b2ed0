"""An administrator in a real browser sets up a second factor and signs in with it.

Codes come from pyotp and the secret the enrolment page shows, as a phone app would
make them from the QR code.
"""

from __future__ import annotations

import time
from typing import Any

import pyotp
from flask import Flask
from playwright.sync_api import expect

from server.extensions import db
from server.services.users import create_user

from .support.data import PASSWORD

USERNAME = "amal"


def sign_in_with_password(page: Any, base: str) -> None:
    """The first step of signing in."""
    page.goto(base + "/login")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_sets_up_a_second_factor_and_signs_in_with_it(  # type: ignore[no-untyped-def]
        browser, live_server: str, live_app: Flask) -> None:
    with live_app.app_context():
        create_user(USERNAME, ["admin"], PASSWORD, display_name="Amal Admin")
        db.session.remove()
    page = browser.new_context().new_page()
    sign_in_with_password(page, live_server)
    # An administrator must have a second factor: every page leads to setting it up.
    page.wait_for_url("**/account/second-factor")
    page.goto(live_server + "/admin/users")
    page.wait_for_url("**/account/second-factor")
    expect(page.locator("#qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on the second factor").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on the second factor").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name="I have kept them").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    sign_in_with_password(page, live_server)
    page.wait_for_url("**/login/code")
    page.goto(live_server + "/admin/users")  # not signed in yet: the password alone is not enough
    page.wait_for_url("**/login?next=*")
    sign_in_with_password(page, live_server)
    page.wait_for_url("**/login/code")
    page.get_by_label("Code").fill("123456")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right, or it was already used.")).to_be_visible()
    # This 30 seconds' code went to the set-up; the app's next one is accepted.
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(int(time.time()) + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Signed in as Amal Admin.")).to_be_visible()
    page.goto(live_server + "/admin/users")
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    assert page.url.endswith("/admin/users")
    page.context.close()
