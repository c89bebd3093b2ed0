"""Chromium and axe-core: the pages people use pass WCAG 2.1 A and AA, in English and in
Arabic, on a desktop screen and on a phone, and no page scrolls sideways on a phone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import HumanTask, ProcessVersion, User
from server.models.types import utcnow
from server.services import access_log, actions, audit_samples, cases, events, webhooks
from server.services.actors import Actor
from server.services.processes import drafts

from .support import axe
from .support.browser import add_user, enter_code
from .support.cases import decided, drive
from .support.data import HANDLER, INTAKE, PASSWORD

SCREENS = [("en", False), ("en", True), ("ar", False), ("ar", True)]
WHO = {"hana": "handler", "maya": "complaints_manager", "ada": "admin", "otto": "process_owner"}


@pytest.fixture(scope="module")
def places(live_app: Flask) -> dict[str, list[str]]:
    """The pages to check, by who opens them (None: the public)."""
    for username, role in WHO.items():
        if username not in ("hana", "ada"):  # made by the live server already
            add_user(live_app, username, role, username.title())
    with live_app.app_context():
        hook, _secret = webhooks.create(  # its delivery log fills with the cases below
            {"name": "CRM", "url": "https://crm.example.com/hooks", "active": True,
             "event_types": " ".join(events.EVENT_TYPES), "personal_data": False},
            Actor.system("test"))
        hook_id = hook.id
        started = cases.start_case(dict(INTAKE, preferred_language="ar"), "web", HANDLER)
        reference, token = started.case.reference, started.tracking_token
        task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == started.case.id))
        assert task is not None
        task_id = task.task_id
        version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
        assert version is not None
        otto = db.session.scalar(select(User).where(User.username == "otto"))
        draft = drafts.edit_version(version.id, Actor.for_user(otto))
        version_id = version.id
        draft_id = draft.id
        _, decision_token = decided(preferred_language="ar")
        closed, _ = decided()
        drive(closed, lambda data: "closure_reason" in data, {"accepted": True})
        maya = Actor.for_user(db.session.scalar(select(User).where(User.username == "maya")))
        action = actions.open_by_hand(actions.NewAction(
            "Reprint the fee table", "process", "Reprint it in every branch.", closed), maya)
        today = utcnow().date()
        sample = audit_samples.draw(audit_samples.DrawForm(
            str(today - timedelta(days=1)), str(today + timedelta(days=1)), "5", "7"), maya)
        action_ref, sample_id = action.reference, sample.id
        for number in range(live_app.config["PLAINT_BULK_ACCESS_CASES"] + 1):  # an alert
            access_log.record(Actor("sam"), [(number + 1, None)], "case")
        db.session.remove()
    return {
        "": ["/", "/complaints/new", "/track", f"/track/{token}", "/login",
             f"/track/{decision_token}/letter"],
        "hana": ["/tasks", f"/cases/{reference}/tasks/{task_id}", "/cases",
                 f"/cases/{reference}", "/cases/new", "/account", f"/cases/{closed}",
                 "/mailbox", "/account/password", "/account/second-factor"],
        "maya": ["/reports", "/reports/returns", "/reports/iso10002", "/reports/pack",
                 "/audit/samples/", f"/audit/samples/{sample_id}",
                 f"/audit/samples/{sample_id}/cases/1", "/actions", f"/actions/{action_ref}",
                 "/actions/new", "/reports/pack/schedule/", "/reports/exports",
                 "/reports/cases?category=billing", "/reports/returns/sama_sla",
                 f"/cases/{closed}", f"/cases/{reference}", f"/cases/{reference}/access"],
        "ada": ["/admin/", "/admin/users", "/admin/roles", "/admin/calendar",
                "/admin/escalation", "/admin/codes/", "/admin/outbox", "/incidents",
                "/admin/users/hana", "/admin/codes/products/new", "/admin/webhooks/",
                "/admin/webhooks/new", f"/admin/webhooks/{hook_id}", "/admin/api-clients",
                "/admin/security", "/account/second-factor",
                "/admin/retention", "/audit/access"],
        "otto": ["/studio/", f"/studio/drafts/{draft_id}",
                 f"/studio/drafts/{draft_id}/translations/ar",
                 f"/studio/versions/{version_id}/cases"],
    }


def sign_in(page: Any, base: str, username: str) -> None:
    """Sign in on a page of an existing context."""
    page.goto(base + "/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    enter_code(page, base, username)
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize(("language", "phone"), SCREENS,
                         ids=[f"{lang}-{'phone' if phone else 'desktop'}"
                              for lang, phone in SCREENS])
def test_every_page_passes_axe_and_fits_the_screen(  # type: ignore[no-untyped-def]
        browser, live_server, places, language: str, phone: bool) -> None:
    found: list[str] = []
    for who, paths in places.items():
        context = axe.context(browser, language, phone)
        page = context.new_page()
        if who:
            sign_in(page, live_server, who)
        for path in paths:
            answer = page.goto(live_server + path)
            assert answer is not None and answer.ok, f"{path}: {answer and answer.status}"
            page.wait_for_load_state("networkidle")
            # The complaint was made in Arabic: its tracking page speaks Arabic to everyone.
            arabic = language == "ar" or path.startswith("/track/")
            assert page.locator("html").get_attribute("dir") == ("rtl" if arabic else "ltr"), path
            found += [f"{path}: {problem}" for problem in axe.violations(page)]
            if phone and (wider := axe.overflow(page)) > 0:
                found.append(f"{path}: the page is {wider}px wider than a phone's screen: "
                             + ", ".join(axe.too_wide(page)))
        context.close()
    assert not found, "\n".join(found)
