"""Chromium and axe-core: the data-subject request pages pass WCAG 2.1 A and AA in English
and Arabic, on a desktop screen and a phone, and a privacy officer records a request."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from server.services import data_requests
from server.services.actors import Actor

from .support import axe
from .support.browser import add_user
from .support.cases import file_case
from .support.data import INTAKE, PASSWORD

SCREENS = [("en", False), ("en", True), ("ar", False), ("ar", True)]


@pytest.fixture(scope="module")
def request_ref(live_app: Flask) -> str:
    """A request about a person with one complaint; its reference."""
    add_user(live_app, "pia", "privacy_officer", "Pia")
    with live_app.app_context():
        file_case(**INTAKE)
        return data_requests.open_request(data_requests.NewRequest(
            "Layla Haddad", INTAKE["complainant_email"], "", "erasure", "ID seen", ""),
            Actor.system("test")).reference


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize(("language", "phone"), SCREENS,
                         ids=[f"{lang}-{'phone' if phone else 'desktop'}"
                              for lang, phone in SCREENS])
def test_the_request_pages_pass_axe_and_fit_the_screen(  # type: ignore[no-untyped-def]
        browser, live_server, request_ref, language: str, phone: bool) -> None:
    context = axe.context(browser, language, phone)
    page = context.new_page()
    sign_in(page, live_server, "pia")
    found: list[str] = []
    for path in ("/data-requests", "/data-requests/new", f"/data-requests/{request_ref}"):
        answer = page.goto(live_server + path)
        assert answer is not None and answer.ok, path
        found += [f"{path}: {problem}" for problem in axe.violations(page)]
        if phone and (wider := axe.overflow(page)) > 0:
            found.append(f"{path}: {wider}px wider than a phone: " + ", ".join(axe.too_wide(page)))
    # A mistake on the form: the page says what to fix, still accessible.
    page.goto(live_server + "/data-requests/new")
    page.locator("#name").fill("Layla Haddad")
    page.locator("form button[type=submit]").last.click()
    assert page.locator(".invalid-feedback").count() >= 2
    found += [f"form with errors: {problem}" for problem in axe.violations(page)]
    context.close()
    assert not found, "\n".join(found)
